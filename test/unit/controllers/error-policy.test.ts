import { describe, expect, it } from 'vitest';
import type { BayTiming } from '../../../src/controllers/bay/deps.js';
import { nextStep } from '../../../src/controllers/bay/error-policy.js';
import { BayRetryError, classifyFailure } from '../../../src/controllers/bay/failures.js';
import { newScope } from '../../../src/controllers/bay/scope.js';
import { SecretConflictError } from '../../../src/controllers/bay/secrets.js';
import {
  BayNetworkError,
  HostApiError,
  HostOperationError,
  HostUnreachableError,
  InvalidNodeSpecError,
  NodeConflictError,
} from '../../../src/hosts/index.js';
import { ApiError, TerminalError, TransportError } from '../../../src/runtime/errors.js';
import { SwarmError } from '../../../src/swarm/index.js';
import { testBay } from '../../support/builders.js';

const timing: BayTiming = { resyncMs: 300_000, retryMs: 2_000, hostMaxAgeMs: 60_000, usageIntervalMs: 5_000 };
const where = { host: 'h1', operation: 'start-node', instance: 'web-0' };

describe('failures are classified in one place', () => {
  it('retries what time may cure: a host away, a node that failed to start, dockerd, the apiserver', () => {
    expect(classifyFailure('nodes', new HostUnreachableError(where, 'connection refused'))).toMatchObject({ kind: 'transient', reason: 'HostUnreachable' });
    expect(classifyFailure('nodes', new HostOperationError(where, "Failed to load kernel module 'x'"))).toMatchObject({ kind: 'transient', reason: 'NodeStartFailed' });
    expect(classifyFailure('nodes', new SwarmError('timeout', { address: '10.0.0.1:2376', operation: 'wait-for-docker' }, 'no answer'))).toMatchObject({ kind: 'transient', reason: 'DockerdFailed' });
    expect(classifyFailure('swarm', new SwarmError('api', { address: '10.0.0.1:2376', operation: 'swarm-join' }, 'HTTP 500'))).toMatchObject({ kind: 'transient', reason: 'SwarmFailed' });
    expect(classifyFailure('placement', new ApiError(409, 'Conflict', 'changed', 'PATCH', '/x'))).toMatchObject({ kind: 'transient', reason: 'ApiConflict' });
  });

  it('waits for a person when only a person can help: a name taken, a configuration refused, a foreign Secret', () => {
    expect(classifyFailure('nodes', new NodeConflictError({ ...where, operation: 'ensure-node' }, 'taken'))).toMatchObject({ kind: 'terminal', reason: 'NodeNameConflict' });
    expect(classifyFailure('nodes', new InvalidNodeSpecError({ ...where, operation: 'ensure-node' }, 'bad'))).toMatchObject({ kind: 'terminal', reason: 'NodeConfigRejected' });
    expect(classifyFailure('nodes', new HostApiError({ ...where, operation: 'ensure-node' }, 400, 'Invalid config'))).toMatchObject({ kind: 'terminal', reason: 'NodeConfigRejected' });
    expect(classifyFailure('certificates', new SecretConflictError('team-a', 'web-ca'))).toMatchObject({ kind: 'terminal', reason: 'SecretConflict' });
  });

  it("names the bay's own network and encrypted overlay in what they fail with, and knows which wait for a person", () => {
    const network = { host: 'h1', operation: 'ensure-bay-network' };
    expect(classifyFailure('nodes', new BayNetworkError(network, 'pool-full', 'no free /24'))).toMatchObject({ kind: 'transient', reason: 'SubnetPoolFull' });
    expect(classifyFailure('nodes', new BayNetworkError(network, 'name-taken', 'another bay'))).toMatchObject({ kind: 'terminal', reason: 'BayNetworkConflict' });
    expect(classifyFailure('nodes', new BayNetworkError(network, 'subnet-full', 'no address'))).toMatchObject({ kind: 'terminal', reason: 'BaySubnetFull' });
    expect(classifyFailure('nodes', new HostApiError(network, 400, 'Invalid ACL rule'))).toMatchObject({ kind: 'terminal', reason: 'BayNetworkRejected' });
    const overlay = { address: '10.0.0.1:2376', operation: 'ensure-encrypted-overlay' };
    expect(classifyFailure('overlay', new SwarmError('invalid-state', overlay, 'name taken'))).toMatchObject({ kind: 'terminal', reason: 'EncryptedOverlayFailed' });
    expect(classifyFailure('overlay', new SwarmError('timeout', overlay, 'no answer'))).toMatchObject({ kind: 'transient', reason: 'EncryptedOverlayFailed' });
  });

  it('retries when the Kubernetes API does not answer, and says so plainly', () => {
    const failure = classifyFailure('credentials', new TransportError('PATCH', '/api/v1/namespaces/team-a/secrets/web-credentials', new Error('socket hang up')));
    expect(failure).toMatchObject({ kind: 'transient', reason: 'ApiError' });
    expect(failure.message).toBe('the Kubernetes API did not answer PATCH /api/v1/namespaces/team-a/secrets/web-credentials; retrying');
  });

  it('says "see the operator’s logs" for an unexpected error instead of showing its text to the tenant', () => {
    const failure = classifyFailure('swarm', new TypeError("Cannot read properties of undefined (reading 'ID')"));
    expect(failure.message).toBe("unexpected error in the swarm phase (TypeError); see the operator's logs");
  });
});

describe('the error policy decides once status is written', () => {
  const scopeWith = (...failures: ReturnType<typeof classifyFailure>[]) => {
    const scope = newScope(testBay());
    scope.failures.push(...failures);
    return scope;
  };

  it('backs off on a transient failure, even when another one is terminal', () => {
    const scope = scopeWith(classifyFailure('nodes', new NodeConflictError(where, 'taken')), classifyFailure('nodes', new HostUnreachableError(where, 'gone')));
    expect(() => nextStep(scope, false, timing)).toThrow(BayRetryError);
  });

  it('stops retrying on a terminal failure when nothing else is in progress', () => {
    const scope = scopeWith(classifyFailure('nodes', new NodeConflictError(where, 'the name is taken by another bay')));
    expect(() => nextStep(scope, false, timing)).toThrow(TerminalError);
    try {
      nextStep(scope, false, timing);
    } catch (err) {
      expect((err as TerminalError).reason).toBe('NodeNameConflict');
    }
  });

  it('checks a converged bay again only after the resync interval', () => {
    expect(nextStep(scopeWith(), true, timing)).toEqual({ requeueAfter: 300_000 });
  });
});
