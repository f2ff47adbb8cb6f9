/**
 * Ports for a test's own HTTP service. The service's public URL (what Twilio and Slack sign)
 * names its port, so the port is chosen before the service is built, not by the kernel at
 * listen time. Chosen below Linux's ephemeral range (32768-60999): a port there could be
 * held by any outgoing connection of the suite's parallel files (CI once failed a harness
 * start with EADDRINUSE on 33718). Two files can still draw the same port: `withFreePort`
 * builds again on another one.
 */
export const pickPort = (): number => 20_000 + Math.floor(Math.random() * 12_000);

const inUse = (err: unknown) => (err as NodeJS.ErrnoException | null)?.code === 'EADDRINUSE';

/** Runs `attempt` with a port, again with another one if that port was taken (5 tries). */
export async function withFreePort<T>(attempt: (port: number) => Promise<T>): Promise<T> {
  for (let tries = 1; ; tries++) {
    try {
      return await attempt(pickPort());
    } catch (err) {
      if (!inUse(err) || tries >= 5) throw err;
    }
  }
}
