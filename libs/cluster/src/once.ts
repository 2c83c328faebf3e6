/** Wraps an async function so that later calls share the first call's promise (idempotent stop). */
export function once(fn: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | undefined;
  return () => (running ??= fn());
}
