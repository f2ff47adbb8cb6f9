import { z } from 'zod';

/** How the Slack side behaves, in sandbox and production alike (credentials live elsewhere). */
export type SlackAppConfig = {
  /** Channel id (or #name) for hand-off threads. */
  readonly handoffChannel: string;
  /** Channel id (or #name) for new referral notices. */
  readonly referralsChannel: string;
  /** Re-ping an unclaimed (normal) hand-off after this many minutes. */
  readonly repingMinutes: number;
  /** Re-ping an unclaimed urgent hand-off (with @here) this often. */
  readonly urgentRepingMinutes: number;
  /** Slack user or channel alerted about hand-offs opened outside staffed hours. */
  readonly fallbackContact: string | null;
  /**
   * DUTY_PHONE: texted once per urgent hand-off outside staffed hours, or when its Slack post
   * is not out after `alertMinutes`; absent when unset.
   */
  readonly duty?: { readonly phone: string; readonly alertMinutes: number };
  /** ISO weekdays (1 = Monday) and local hours when link workers are at work. */
  readonly staffed: {
    readonly days: readonly number[];
    readonly start: string;
    readonly end: string;
  };
  /** Events, actions and commands over a Socket Mode WebSocket instead of HTTP. */
  readonly socketMode: boolean;
  /** Web API client timeout (the v8 default is none). */
  readonly timeoutMs: number;
  /** Sandbox only: an already running local Slack (SLACK_API_URL); unset = one in-process. */
  readonly sandboxApiUrl: string | null;
};

const DAYS = { mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6, sun: 7 } as const;

/** "Mon-Fri 09:00-17:00" (or "Mon,Wed,Fri 10:00-16:00"). */
export const staffedHours = z
  .string()
  .regex(
    /^[A-Za-z]{3}([-,][A-Za-z]{3})* ([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$/,
    'must look like Mon-Fri 09:00-17:00',
  )
  .refine((v) => parseStaffed(v) !== null, 'must name days Mon..Sun with the start before the end')
  .default('Mon-Fri 09:00-17:00')
  .describe(
    'When link workers are at work (in DEFAULT_TZ); outside it the participant is told when someone will reply.',
  );

export function parseStaffed(value: string): SlackAppConfig['staffed'] | null {
  const [dayPart = '', hours = ''] = value.split(' ');
  const [start = '', end = ''] = hours.split('-');
  if (start >= end) return null;
  const day = (d: string) => DAYS[d.toLowerCase() as keyof typeof DAYS];
  const days: number[] = [];
  for (const piece of dayPart.split(',')) {
    const [from, to] = piece.split('-');
    const a = day(from ?? '');
    const b = to === undefined ? a : day(to);
    if (a === undefined || b === undefined || b < a) return null;
    for (let d = a; d <= b; d += 1) days.push(d);
  }
  return { days, start, end };
}
