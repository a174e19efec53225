/**
 * Resolves with the first SIGINT or SIGTERM. Call it before announcing that a long-running verb is
 * up ("Ctrl-C to stop", "worker started"): whoever waits for that line may signal at once, and a
 * signal with no listener yet kills the process instead of stopping it cleanly.
 */
export function stopSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
}
