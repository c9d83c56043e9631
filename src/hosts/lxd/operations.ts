import type { HostErrorContext } from '../errors.js';
import { HostOperationError, HostTimeoutError } from '../errors.js';
import type { Envelope, LxdOperation } from './api-types.js';
import { OPERATION_CANCELLED, OPERATION_FAILURE, OPERATION_SUCCESS } from './api-types.js';
import type { LxdClient } from './client.js';
import { expectSync, isErrorEnvelope, isNotFound, parseEnvelope } from './envelope.js';

/**
 * The host forgot the operation before marina saw its end: LXD and Incus drop finished operations
 * 5 s after completion, so a late wait gets 404. Whether it succeeded is unknown; the caller checks
 * the resource itself (does the instance exist now?).
 */
export class OperationOutcomeUnknownError extends HostOperationError {
  constructor(context: HostErrorContext, operationId: string) {
    super(context, `operation ${operationId} finished and was forgotten before its outcome was read`);
  }
}

/** Longest single long-poll; shorter slices keep idle connections alive through proxies. */
const WAIT_SLICE_SECONDS = 30;
/** Allowance on top of the server-side wait for the answer to travel. */
const WAIT_SLACK_MS = 10_000;

/**
 * Waits for an operation with `GET /1.0/operations/<id>/wait?timeout=<s>` until it succeeds (returns
 * the final operation), fails (HostOperationError), or the deadline passes (HostTimeoutError).
 *
 * The wait endpoint writes HTTP 200 before it knows the outcome, so its status code says nothing:
 *  - LXD answers a failed *or timed-out* wait with an error envelope; which of the two is decided by
 *    reading the operation itself.
 *  - Incus answers a sync envelope with the operation's current state (still running on timeout,
 *    status_code 400 + `err` on failure).
 */
export async function waitForOperation(
  client: LxdClient,
  operation: LxdOperation,
  context: HostErrorContext,
  timeoutMs: number,
): Promise<LxdOperation> {
  const deadline = Date.now() + timeoutMs;
  let current = operation;
  for (;;) {
    if (isFinished(current)) return finish(current, context);
    const remainingMs = deadline - Date.now();
    if (remainingMs <= 0) throw new HostTimeoutError(context, timeoutMs);
    current = await waitSlice(client, current.id, context, Math.min(WAIT_SLICE_SECONDS, Math.ceil(remainingMs / 1000)));
  }
}

async function waitSlice(
  client: LxdClient,
  id: string,
  context: HostErrorContext,
  seconds: number,
): Promise<LxdOperation> {
  const path = `/1.0/operations/${encodeURIComponent(id)}`;
  const response = await client.send('GET', `${path}/wait?timeout=${seconds}`, context, {
    timeoutMs: seconds * 1000 + WAIT_SLACK_MS,
  });
  if (response.status === 404) throw new OperationOutcomeUnknownError(context, id);
  const envelope: Envelope = parseEnvelope(response, context);
  if (!isErrorEnvelope(envelope)) return expectSync<LxdOperation>(envelope, context, client.transport.secure);
  // LXD: failed or merely not finished yet; the operation itself tells which.
  return readOperation(client, path, id, context);
}

async function readOperation(
  client: LxdClient,
  path: string,
  id: string,
  context: HostErrorContext,
): Promise<LxdOperation> {
  try {
    return await client.get<LxdOperation>(path, context);
  } catch (error) {
    if (isNotFound(error)) throw new OperationOutcomeUnknownError(context, id);
    throw error;
  }
}

function isFinished(operation: LxdOperation): boolean {
  return [OPERATION_SUCCESS, OPERATION_FAILURE, OPERATION_CANCELLED].includes(operation.status_code);
}

function finish(operation: LxdOperation, context: HostErrorContext): LxdOperation {
  if (operation.status_code === OPERATION_SUCCESS) return operation;
  const reason = operation.err || operation.status;
  throw new HostOperationError(context, reason);
}
