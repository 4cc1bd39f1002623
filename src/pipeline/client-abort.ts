/**
 * Cancels the upstream request when the client goes away. undici accepts an EventEmitter with `aborted` as a
 * request signal; it costs a fraction of an AbortController, which matters at one per request.
 */
import { EventEmitter } from 'node:events';

export class ClientAbort extends EventEmitter {
  aborted = false;

  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    this.emit('abort');
  }
}
