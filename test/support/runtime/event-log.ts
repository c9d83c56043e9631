import type { EventHandler } from '../../../src/runtime/informer.js';
import type { KubeObject } from '../../../src/runtime/resource.js';

export interface SeenEvent {
  readonly type: 'add' | 'update' | 'delete';
  readonly name: string;
  readonly resourceVersion: string;
  readonly data: Record<string, string>;
}

/** Records what an informer's handlers were told, in order. */
export class EventLog {
  readonly events: SeenEvent[] = [];

  readonly handler: EventHandler<KubeObject & { data?: Record<string, string> }> = {
    onAdd: (obj) => this.push('add', obj),
    onUpdate: (_old, obj) => this.push('update', obj),
    onDelete: (obj) => this.push('delete', obj),
  };

  of(name: string): SeenEvent[] {
    return this.events.filter((e) => e.name === name);
  }

  private push(type: SeenEvent['type'], obj: KubeObject & { data?: Record<string, string> }): void {
    this.events.push({ type, name: obj.metadata.name ?? '', resourceVersion: obj.metadata.resourceVersion ?? '', data: obj.data ?? {} });
  }
}
