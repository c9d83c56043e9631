import { describe, expect, it } from 'vitest';
import { SwarmError } from '../../../src/swarm/index.js';
import { toSwarmError } from '../../../src/swarm/classify.js';

const context = { address: '10.213.71.10:2376', operation: 'swarm-init' };

/** What docker-modem rejects with when dockerd answers with an error status. */
function httpError(statusCode: number, message: string): Error {
  return Object.assign(new Error(`(HTTP code ${statusCode}) unexpected - ${message} `), { statusCode, json: { message } });
}

function transportError(code: string): Error {
  return Object.assign(new Error(`${code} 10.213.71.10:2376`), { code });
}

describe('swarm errors', () => {
  it('name the dockerd, the operation and the node', () => {
    const error = new SwarmError('api', { ...context, operation: 'node-update', nodeId: 'n1' }, 'HTTP 500: boom');
    expect(error.message).toBe('node-update of swarm node n1 via dockerd 10.213.71.10:2376: HTTP 500: boom');
    expect(error).toMatchObject({ name: 'SwarmError', code: 'api', address: '10.213.71.10:2376', operation: 'node-update', nodeId: 'n1' });
  });

  it("quote dockerd's own message and keep its status", () => {
    const error = toSwarmError(httpError(500, 'rpc error: code = Unknown desc = boom'), context);
    expect(error.message).toBe('swarm-init on dockerd 10.213.71.10:2376: HTTP 500: rpc error: code = Unknown desc = boom');
    expect(error.statusCode).toBe(500);
  });

  it.each([
    [httpError(503, 'This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.'), 'not-manager'],
    [httpError(503, 'This node is not a swarm manager. Worker nodes can\'t be used to view or modify cluster state.'), 'not-manager'],
    [httpError(503, 'This node is not part of a swarm'), 'not-in-swarm'],
    [httpError(500, 'rpc error: code = Unknown desc = update out of sequence'), 'conflict'],
    [httpError(400, "rpc error: code = FailedPrecondition desc = node n1 is not down and can't be removed"), 'invalid-state'],
    [httpError(404, 'node n1 not found'), 'api'],
    [transportError('ECONNREFUSED'), 'unreachable'],
    [transportError('ECONNRESET'), 'unreachable'],
    [transportError('ERR_TLS_CERT_ALTNAME_INVALID'), 'tls'],
    [transportError('SELF_SIGNED_CERT_IN_CHAIN'), 'tls'],
    [transportError('CERT_HAS_EXPIRED'), 'tls'],
    [transportError('ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED'), 'tls'],
    [new DOMException('The operation was aborted due to timeout', 'TimeoutError'), 'timeout'],
  ])('classify %s as %s', (cause, code) => {
    expect(toSwarmError(cause, context).code).toBe(code);
  });

  it('hint that a reset connection may be dockerd refusing our client certificate', () => {
    expect(toSwarmError(transportError('ECONNRESET'), context).message).toContain("refusing marina's client certificate");
  });

  it('say which failures are worth retrying as they are', () => {
    expect(new SwarmError('unreachable', context, '').transient).toBe(true);
    expect(new SwarmError('conflict', context, '').transient).toBe(true);
    expect(new SwarmError('tls', context, '').transient).toBe(false);
    expect(new SwarmError('other-swarm', context, '').transient).toBe(false);
  });
});
