import { HostApiError, HostOperationError, type HostError, type HostErrorContext } from '../errors.js';

/**
 * What a simulated host answered with instead of doing what it was asked: an API error with its
 * status, or a failed operation. The call in progress turns it into the HostError the LXD provider
 * would throw, naming the host, the operation and the node.
 */
export class SimHostRefusal extends Error {
  override readonly name = 'SimHostRefusal';

  constructor(
    readonly kind: 'api' | 'operation',
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }

  toHostError(context: HostErrorContext): HostError {
    return this.kind === 'api'
      ? new HostApiError(context, this.status, this.message)
      : new HostOperationError(context, this.message);
  }
}
