import { IANAZone } from 'luxon';
import { z } from 'zod';
import { classifyNumber } from '../channels/sms/number-type.js';
import { wallTimeSchema } from '../domain/schedule/local-time.js';
import type { PlanPolicy } from '../domain/schedule/plan-policy.js';
import { checkinWeeksSchema } from './checkin-weeks.js';
import { type SlackAppConfig, staffedHours } from './slack-app.js';

/**
 * The environment variables Linkline reads, one zod schema each, with help text.
 * Field schemas only check a variable on its own; which variables must be set together
 * (sandbox vs production mode) is decided in load.ts.
 */

const E164 = /^\+[1-9]\d{6,14}$/;
const LANG = /^[a-z]{2,3}(-[a-z0-9]{2,8})*$/;

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * A URL with one of `schemes` and a host. `socket(url)` may stand in for the host: a Unix
 * socket of a co-located server (`postgres:///db?host=/var/run/postgresql`, `unix:///x.sock`).
 */
function urlWithSchemes(
  schemes: readonly string[],
  error: string,
  socket: (url: URL) => boolean = () => false,
) {
  return z.string().refine(
    (value) => {
      try {
        const url = new URL(value);
        if (!schemes.includes(url.protocol)) return false;
        // unix://host/x.sock would be read as the socket /x.sock: a unix: URL has no host.
        if (url.protocol === 'unix:') return url.host === '' && socket(url);
        return url.host !== '' || socket(url);
      } catch {
        return false;
      }
    },
    { error, abort: true },
  );
}

/** PostgreSQL's socket folder in `?host=` (an absolute path), as libpq and node-postgres read it. */
const pgSocket = (url: URL) => url.searchParams.get('host')?.startsWith('/') === true;
/** A Redis Unix socket: `unix:///path/to/redis.sock`. */
const redisSocket = (url: URL) => url.protocol === 'unix:' && url.pathname.length > 1;

const httpUrl = (error: string) => urlWithSchemes(['http:', 'https:'], error);

const secret = z.string().min(1, 'must not be empty');

/** A local wall-clock time: the planner reads HH:MM, so 9:30 or 10am would fail later, not here. */
const wallTime = wallTimeSchema('must be a 24-hour time HH:MM between 00:00 and 23:59, e.g. 10:00');

export const envSchema = z.object({
  PORT: z.coerce
    .number({ error: 'must be a whole number between 0 and 65535' })
    .int('must be a whole number between 0 and 65535')
    .min(0, 'must be a whole number between 0 and 65535')
    .max(65535, 'must be a whole number between 0 and 65535')
    .default(3000)
    .describe('TCP port the HTTP server listens on.'),
  HOST: z
    .string()
    .min(1, 'must not be empty')
    .default('0.0.0.0')
    .describe('Interface the HTTP server binds to.'),
  PUBLIC_URL: httpUrl('must be an http(s) URL such as https://linkline.example.org')
    .refine((value) => !/[?#]/.test(value), 'must not contain a query string or fragment')
    .optional()
    .describe(
      'Public base URL as Twilio and Slack see it (behind a proxy: the outside URL). ' +
        'Twilio signatures are checked against it. A trailing slash is dropped.',
    )
    .meta({ helpDefault: 'http://localhost:$PORT' }),
  DATABASE_URL: urlWithSchemes(
    ['postgres:', 'postgresql:'],
    'must be a postgres:// or postgresql:// connection URL',
    pgSocket,
  )
    .optional()
    .describe(
      'PostgreSQL connection URL (on the same host, its Unix socket: postgres:///linkline?host=/var/run/postgresql). Unset: an embedded PGlite database in DATA_DIR.',
    ),
  DATA_DIR: z
    .string()
    .min(1, 'must not be empty')
    .default('./data')
    .describe('Folder for local state (the embedded PGlite database when DATABASE_URL is unset).'),
  REDIS_URL: urlWithSchemes(
    ['redis:', 'rediss:', 'unix:'],
    'must be a redis://, rediss:// or unix:///path/to/redis.sock URL',
    redisSocket,
  )
    .default('redis://127.0.0.1:6379')
    .describe(
      'Redis for queues, timers and locks (needs maxmemory-policy noeviction); on the same host, its Unix socket: unix:///path/to/redis.sock.',
    ),
  DEFAULT_TZ: z
    .string()
    .refine((zone) => IANAZone.isValidZone(zone), 'must be an IANA time zone such as Europe/London')
    .default('Europe/London')
    .describe('Time zone for participants who have none recorded (quiet hours, reminders).'),
  DEFAULT_LANG: z
    .string()
    .regex(LANG, 'must be a lowercase BCP-47 language code such as en or cy')
    .default('en')
    .describe('Language for participants who have none recorded; locales/<lang> must exist.'),
  ADMIN_TOKEN: z
    .string()
    .min(16, 'must be at least 16 characters')
    .optional()
    .describe('Bearer token for the admin API. Unset: the admin API is disabled.'),
  TWILIO_ACCOUNT_SID: z
    .string()
    .regex(/^AC[0-9a-fA-F]{32}$/, 'must be AC followed by 32 hex digits')
    .optional()
    .describe('Twilio Account SID (production mode).'),
  TWILIO_AUTH_TOKEN: secret
    .optional()
    .describe('Twilio Auth Token; signs and verifies webhooks (production mode).'),
  TWILIO_FROM: z
    .string()
    .regex(
      E164,
      'must be an E.164 phone number (two-way long code); alphanumeric sender IDs cannot receive replies',
    )
    .optional()
    .describe(
      'Sending number in E.164, e.g. +447700900123: a two-way long code. ' +
        'Set this or TWILIO_MESSAGING_SERVICE_SID (production mode).',
    ),
  TWILIO_MESSAGING_SERVICE_SID: z
    .string()
    .regex(/^MG[0-9a-fA-F]{32}$/, 'must be MG followed by 32 hex digits')
    .optional()
    .describe('Twilio Messaging Service SID; used instead of, or with, TWILIO_FROM.'),
  TWILIO_API_URL: httpUrl('must be an http(s) URL')
    .optional()
    .describe('Override the Twilio API base URL (tests and the sandbox point it at a fake).'),
  SLACK_BOT_TOKEN: z
    .string()
    .startsWith('xoxb-', 'must be a bot token starting with xoxb-')
    .optional()
    .describe('Slack bot token (production mode).'),
  SLACK_SIGNING_SECRET: secret
    .optional()
    .describe('Slack signing secret; verifies requests from Slack (production mode).'),
  SLACK_APP_TOKEN: z
    .string()
    .startsWith('xapp-', 'must be an app-level token starting with xapp-')
    .optional()
    .describe('Slack app-level token (xapp-..., connections:write), needed for Socket Mode.'),
  SLACK_SOCKET_MODE: z
    .enum(['on', 'off'], { error: 'must be on or off' })
    .default('off')
    .describe(
      'on: take events, actions and commands over a Socket Mode WebSocket (no public URL needed; ' +
        'needs SLACK_APP_TOKEN in production mode); off: Slack calls /slack/events, /slack/actions, /slack/commands.',
    ),
  SLACK_API_URL: httpUrl('must be an http(s) URL')
    .optional()
    .describe('Override the Slack Web API base URL (tests and the sandbox point it at a fake).'),
  SLACK_HANDOFF_CHANNEL: z
    .string()
    .regex(/^(#[a-z0-9_-]+|[CG][A-Z0-9]+)$/, 'must be a channel id (C...) or #name')
    .optional()
    .describe('Slack channel for hand-off threads.')
    .meta({ helpDefault: '#linkline-handoffs (sandbox: C0HANDOFFS)' }),
  SLACK_REFERRALS_CHANNEL: z
    .string()
    .regex(/^(#[a-z0-9_-]+|[CG][A-Z0-9]+)$/, 'must be a channel id (C...) or #name')
    .optional()
    .describe('Slack channel for new referral notices.')
    .meta({ helpDefault: '#linkline-referrals (sandbox: C0REFERRAL)' }),
  SLACK_REPING_MINUTES: z.coerce
    .number({ error: 'must be a number of minutes' })
    .int('must be a whole number of minutes')
    .min(1, 'must be at least 1')
    .default(30)
    .describe('Re-ping an unclaimed hand-off after this many minutes (urgent ones: every 10).'),
  SLACK_FALLBACK_CONTACT: z
    .string()
    .regex(/^[CGUW][A-Z0-9]+$/, 'must be a Slack user or channel id')
    .optional()
    .describe('Slack user or channel alerted when a hand-off opens outside staffed hours.'),
  STAFFED_HOURS: staffedHours,
  DUTY_PHONE: z
    .string()
    .regex(E164, { error: 'must be an E.164 mobile number such as +447700900123', abort: true })
    .refine((v) => {
      const kind = classifyNumber(v);
      return kind !== 'landline' && kind !== 'special' && kind !== 'invalid';
    }, 'must be a mobile number that can take texts (not a landline or special-rate number)')
    .optional()
    .describe(
      'Duty phone texted once per urgent (crisis) hand-off, by reference only: at once outside STAFFED_HOURS, ' +
        'or when the urgent Slack post is not out after DUTY_ALERT_MINUTES. Unset: no duty texts.',
    ),
  DUTY_ALERT_MINUTES: z.coerce
    .number({ error: 'must be a number of minutes' })
    .int('must be a whole number of minutes')
    .min(1, 'must be at least 1')
    .max(60, 'must be at most 60')
    .default(5)
    .describe(
      'With DUTY_PHONE: text the duty phone when an urgent hand-off is still not posted to Slack after this many minutes.',
    ),
  LOG_LEVEL: z
    .enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` })
    .default('info')
    .describe('Minimum log level.'),
  FLOWS_DIR: z
    .string()
    .min(1, 'must not be empty')
    .default('./flows')
    .describe('Folder of conversation flow YAML files.'),
  LOCALES_DIR: z
    .string()
    .min(1, 'must not be empty')
    .default('./locales')
    .describe('Folder of locale files (messages and reply keywords per language).'),
  QUEUE_PREFIX: z
    .string()
    .regex(/^[a-z][a-z0-9-]{0,30}$/, 'must be lowercase letters, digits and -')
    .default('linkline')
    .describe(
      'Prefix of every BullMQ key in Redis; services sharing one Redis need different ones.',
    ),
  SMS_RATE: z.coerce
    .number({ error: 'must be a number of messages per second' })
    .min(0, 'must be 0 (no pacing) or more')
    .default(10)
    .describe(
      'Messages per second the sender may send, spread evenly (a UK long code takes about 10); 0 turns pacing off.',
    ),
  SMS_RESEND_AFTER_SECONDS: z.coerce
    .number({ error: 'must be a number of seconds' })
    .int('must be a whole number of seconds')
    .min(15, 'must be at least 15 (the HTTP timeout is 10 s)')
    .max(3_600, 'must be at most 3600')
    .default(120)
    .describe(
      'After a send that may have reached Twilio (a timeout or reset), how long "not found" at Twilio is not yet proof; only then is it sent again.',
    ),
  LOCK_WAIT_ALERT_MS: z.coerce
    .number({ error: 'must be a number of milliseconds' })
    .int('must be a whole number of milliseconds')
    .min(100, 'must be at least 100')
    .max(15_000, 'must be at most 15000 (the lock timeout)')
    .default(5_000)
    .describe(
      "A wait this long for a participant's lock logs a warning (with the participant's reference) and counts in /metrics.",
    ),
  SMS_INBOUND_SWEEP_SECONDS: z.coerce
    .number({ error: 'must be a number of seconds' })
    .int('must be a whole number of seconds')
    .min(0, 'must be 0 (off) or more')
    .default(300)
    .describe(
      'How often inbound SMS are listed at Twilio and any the webhook missed ingested; 0 turns it off.',
    ),
  RETENTION_MONTHS: z.coerce
    .number({ error: 'must be a whole number of months between 1 and 120' })
    .int('must be a whole number of months between 1 and 120')
    .min(1, 'must be a whole number of months between 1 and 120')
    .max(120, 'must be a whole number of months between 1 and 120')
    .default(12)
    .describe(
      "Months conversation content is kept after a participant's last activity (texts, answers' " +
        'free text, conversation state, Slack post text); a nightly job removes it after that. Counts and scores stay.',
    ),
  CHECKIN_WEEKS: z
    .string()
    .default('6,12')
    .pipe(checkinWeeksSchema)
    .describe(
      'Weeks after a referral at which the ONS4 wellbeing check-in is sent (with consent), e.g. 6,12.',
    )
    .meta({ helpDefault: '6,12' }),
  REMINDER_DAY_BEFORE_AT: wallTime
    .default('10:00')
    .describe(
      "Time of the day-before reminder, in the participant's zone, the day before the session " +
        '(inside their quiet hours it moves to just before them).',
    ),
  LEAD_SUMMARY_AT: wallTime
    .default('16:00')
    .describe("Time of the lead's summary, in the activity's zone, the day before the session."),
  WORKERS: z
    .enum(['on', 'off'])
    .default('on')
    .describe(
      'Run the queue workers in this process (off: HTTP only; run `linkline worker` elsewhere).',
    ),
});

/** Checks across variables that zod can see on its own (mode rules are in load.ts). */
export const envChecks = envSchema.superRefine((env, ctx) => {
  if (env.SLACK_SOCKET_MODE === 'on' && env.SLACK_BOT_TOKEN && !env.SLACK_APP_TOKEN)
    ctx.addIssue({
      code: 'custom',
      path: ['SLACK_APP_TOKEN'],
      message:
        'required when SLACK_SOCKET_MODE=on: an app-level token (xapp-...) with connections:write',
    });
});

export type EnvVar = keyof typeof envSchema.shape;
export type Env = z.infer<typeof envSchema>;

export const ENV_VARS = Object.keys(envSchema.shape) as EnvVar[];

/** Twilio credentials that, with Slack's, switch Linkline from sandbox to production. */
export const TWILIO_VARS = [
  'TWILIO_ACCOUNT_SID',
  'TWILIO_AUTH_TOKEN',
  'TWILIO_FROM',
  'TWILIO_MESSAGING_SERVICE_SID',
] as const satisfies readonly EnvVar[];

export const SLACK_VARS = [
  'SLACK_BOT_TOKEN',
  'SLACK_SIGNING_SECRET',
  'SLACK_APP_TOKEN',
] as const satisfies readonly EnvVar[];

export type TwilioConfig = {
  readonly accountSid: string;
  readonly authToken: string;
  /** At least one of `from` and `messagingServiceSid` is set. */
  readonly from: string | null;
  readonly messagingServiceSid: string | null;
  readonly apiUrl: string | null;
};

export type SlackConfig = {
  readonly botToken: string;
  readonly signingSecret: string;
  readonly appToken: string | null;
  readonly apiUrl: string | null;
};

export type ConfigPlanPolicy = Readonly<
  Pick<PlanPolicy, 'dayBeforeAt' | 'leadSummaryAt' | 'checkinWeeks'>
>;

type Common = {
  readonly http: { readonly port: number; readonly host: string; readonly publicUrl: string };
  readonly db:
    | { readonly kind: 'postgres'; readonly url: string }
    | { readonly kind: 'pglite'; readonly dir: string };
  readonly dataDir: string;
  readonly redis: { readonly url: string };
  readonly defaults: { readonly tz: string; readonly lang: string };
  readonly adminToken: string | null;
  readonly log: { readonly level: LogLevel };
  readonly flowsDir: string;
  readonly localesDir: string;
  /** Sandbox only: an already running local Twilio (TWILIO_API_URL); unset = one in-process. */
  readonly sandboxTwilioUrl: string | null;
  readonly queuePrefix: string;
  readonly workers: boolean;
  /** Messages per second per sender; 0 = unpaced. */
  readonly smsRate: number;
  /** After an ambiguous send, seconds until "not found" at Twilio allows a resend. */
  readonly smsResendAfterSeconds: number;
  /** A participant-lock wait this long raises the alert (checklist 19). */
  readonly lockWaitAlertMs: number;
  /** Interval of the inbound reconciliation job, in seconds; 0 = off (checklist 22). */
  readonly inboundSweepSeconds: number;
  /** Months conversation content is kept after a participant's last activity (checklist 89). */
  readonly retentionMonths: number;
  /**
   * The planner's knobs set by the environment (REMINDER_DAY_BEFORE_AT, LEAD_SUMMARY_AT,
   * CHECKIN_WEEKS); the rest keep plan-policy.ts's defaults. Every booking change and replan
   * of the service is given this one policy, so no path plans at other times.
   */
  readonly planPolicy: ConfigPlanPolicy;
  readonly slackApp: SlackAppConfig;
};

/** Sandbox: no provider credentials; production: every Twilio and Slack credential. */
export type Config = Common &
  (
    | { readonly mode: 'sandbox'; readonly twilio: null; readonly slack: null }
    | { readonly mode: 'production'; readonly twilio: TwilioConfig; readonly slack: SlackConfig }
  );

export type Mode = Config['mode'];
export type { SlackAppConfig };
