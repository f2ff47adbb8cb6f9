import type { z } from 'zod';
import {
  type Config,
  ENV_VARS,
  type Env,
  type EnvVar,
  envChecks,
  envSchema,
  SLACK_VARS,
  type SlackConfig,
  TWILIO_VARS,
  type TwilioConfig,
} from './schema.js';
import { parseStaffed } from './slack-app.js';

/** Thrown by loadConfig; `problems` has one line per problem, each starting with the variable. */
export class ConfigError extends Error {
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

type RawEnv = Partial<Record<EnvVar, string>>;

/** Only our variables; blank values count as unset (a common artefact of .env files). */
function pickEnv(env: Record<string, string | undefined>): RawEnv {
  const raw: RawEnv = {};
  for (const name of ENV_VARS) {
    const value = env[name]?.trim();
    if (value) raw[name] = value;
  }
  return raw;
}

const PRODUCTION_REQUIRED = [
  'TWILIO_ACCOUNT_SID',
  'TWILIO_AUTH_TOKEN',
  'SLACK_BOT_TOKEN',
  'SLACK_SIGNING_SECRET',
] as const satisfies readonly EnvVar[];

/** Sandbox when no provider credential is set; otherwise every required one must be. */
function modeProblems(raw: RawEnv): string[] {
  const present = [...TWILIO_VARS, ...SLACK_VARS].filter((name) => raw[name] !== undefined);
  if (present.length === 0) return [];
  const why = `required in production mode because ${present.join(', ')} ${present.length === 1 ? 'is' : 'are'} set; set every Twilio and Slack credential, or none for sandbox mode`;
  const problems = PRODUCTION_REQUIRED.filter((name) => raw[name] === undefined).map(
    (name) => `${name}: ${why}`,
  );
  if (raw.TWILIO_FROM === undefined && raw.TWILIO_MESSAGING_SERVICE_SID === undefined) {
    problems.push(`TWILIO_FROM: this or TWILIO_MESSAGING_SERVICE_SID is ${why}`);
  }
  return problems;
}

function issueLine(issue: z.core.$ZodIssue): string {
  const name = String(issue.path[0] ?? 'environment');
  return `${name}: ${issue.message}`;
}

function twilioConfig(env: Env): TwilioConfig {
  return {
    accountSid: env.TWILIO_ACCOUNT_SID!,
    authToken: env.TWILIO_AUTH_TOKEN!,
    from: env.TWILIO_FROM ?? null,
    messagingServiceSid: env.TWILIO_MESSAGING_SERVICE_SID ?? null,
    apiUrl: env.TWILIO_API_URL?.replace(/\/+$/, '') ?? null,
  };
}

function slackConfig(env: Env): SlackConfig {
  return {
    botToken: env.SLACK_BOT_TOKEN!,
    signingSecret: env.SLACK_SIGNING_SECRET!,
    appToken: env.SLACK_APP_TOKEN ?? null,
    apiUrl: env.SLACK_API_URL ?? null,
  };
}

function toConfig(env: Env): Config {
  const common = {
    http: {
      port: env.PORT,
      host: env.HOST,
      publicUrl: (env.PUBLIC_URL ?? `http://localhost:${env.PORT}`).replace(/\/+$/, ''),
    },
    db: env.DATABASE_URL
      ? ({ kind: 'postgres', url: env.DATABASE_URL } as const)
      : ({ kind: 'pglite', dir: env.DATA_DIR } as const),
    dataDir: env.DATA_DIR,
    redis: { url: env.REDIS_URL },
    defaults: { tz: env.DEFAULT_TZ, lang: env.DEFAULT_LANG },
    adminToken: env.ADMIN_TOKEN ?? null,
    log: { level: env.LOG_LEVEL },
    flowsDir: env.FLOWS_DIR,
    localesDir: env.LOCALES_DIR,
    sandboxTwilioUrl: env.TWILIO_API_URL?.replace(/\/+$/, '') ?? null,
    queuePrefix: env.QUEUE_PREFIX,
    workers: env.WORKERS === 'on',
    smsRate: env.SMS_RATE,
    smsResendAfterSeconds: env.SMS_RESEND_AFTER_SECONDS,
    lockWaitAlertMs: env.LOCK_WAIT_ALERT_MS,
    inboundSweepSeconds: env.SMS_INBOUND_SWEEP_SECONDS,
    retentionMonths: env.RETENTION_MONTHS,
    planPolicy: {
      dayBeforeAt: env.REMINDER_DAY_BEFORE_AT,
      leadSummaryAt: env.LEAD_SUMMARY_AT,
      checkinWeeks: [...env.CHECKIN_WEEKS],
    },
    slackApp: {
      handoffChannel:
        env.SLACK_HANDOFF_CHANNEL ?? (env.SLACK_BOT_TOKEN ? '#linkline-handoffs' : 'C0HANDOFFS'),
      referralsChannel:
        env.SLACK_REFERRALS_CHANNEL ?? (env.SLACK_BOT_TOKEN ? '#linkline-referrals' : 'C0REFERRAL'),
      repingMinutes: env.SLACK_REPING_MINUTES,
      urgentRepingMinutes: 10,
      fallbackContact: env.SLACK_FALLBACK_CONTACT ?? null,
      staffed: parseStaffed(env.STAFFED_HOURS)!,
      ...(env.DUTY_PHONE
        ? { duty: { phone: env.DUTY_PHONE, alertMinutes: env.DUTY_ALERT_MINUTES } }
        : {}),
      socketMode: env.SLACK_SOCKET_MODE === 'on',
      timeoutMs: 10_000,
      sandboxApiUrl: env.SLACK_BOT_TOKEN ? null : (env.SLACK_API_URL ?? null),
    },
  };
  // modeProblems has already guaranteed all-or-nothing, so one variable decides.
  if (env.SLACK_BOT_TOKEN === undefined) {
    return { ...common, mode: 'sandbox', twilio: null, slack: null };
  }
  return { ...common, mode: 'production', twilio: twilioConfig(env), slack: slackConfig(env) };
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

/**
 * Reads and validates the environment. The only place in Linkline that reads process.env.
 * Throws ConfigError listing every problem at once.
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const raw = pickEnv(env);
  const parsed = envChecks.safeParse(raw);
  const problems = parsed.success ? [] : parsed.error.issues.map(issueLine);
  problems.push(...modeProblems(raw));
  if (!parsed.success || problems.length > 0) throw new ConfigError(problems);
  return deepFreeze(toConfig(parsed.data));
}

function helpDefault(schema: z.ZodType): string | undefined {
  const meta = schema.meta();
  if (typeof meta?.helpDefault === 'string') return meta.helpDefault;
  const empty = schema.safeParse(undefined);
  return empty.success && empty.data !== undefined ? String(empty.data) : undefined;
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && line.length + word.length + 1 > width) {
      lines.push(line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  if (line) lines.push(line);
  return lines;
}

/** Every variable with its default and help text, for `linkline config`. */
export function configHelp(): string {
  const lines = [
    'Linkline reads its configuration from these environment variables.',
    'With no Twilio or Slack credentials it runs in sandbox mode; set every one of',
    'TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_FROM (or TWILIO_MESSAGING_SERVICE_SID),',
    'SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET for production mode.',
    '',
  ];
  for (const name of ENV_VARS) {
    const schema: z.ZodType = envSchema.shape[name];
    const fallback = helpDefault(schema);
    lines.push(`  ${name}${fallback === undefined ? '  (optional)' : `  (default: ${fallback})`}`);
    lines.push(...wrap(schema.description ?? '', 84).map((line) => `      ${line}`));
  }
  return lines.join('\n');
}
