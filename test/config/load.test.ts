import { describe, expect, it } from 'vitest';
import { configHelp, loadConfig } from '../../src/config/load.js';
import { ENV_VARS } from '../../src/config/schema.js';
import { redisAddress } from '../../src/redis.js';
import { problemsOf } from './support.js';

const TWILIO = {
  TWILIO_ACCOUNT_SID: `AC${'a1'.repeat(16)}`,
  TWILIO_AUTH_TOKEN: 'twilio-auth-token',
  TWILIO_FROM: '+447700900123',
};
const SLACK = {
  SLACK_BOT_TOKEN: 'xoxb-1-2-abc',
  SLACK_SIGNING_SECRET: 'slack-signing-secret',
};

describe('loadConfig', () => {
  it('applies the defaults to an empty environment, in sandbox mode', () => {
    const config = loadConfig({});
    expect(config).toEqual({
      mode: 'sandbox',
      http: { port: 3000, host: '0.0.0.0', publicUrl: 'http://localhost:3000' },
      db: { kind: 'pglite', dir: './data' },
      dataDir: './data',
      redis: { url: 'redis://127.0.0.1:6379' },
      defaults: { tz: 'Europe/London', lang: 'en' },
      adminToken: null,
      log: { level: 'info' },
      flowsDir: './flows',
      localesDir: './locales',
      sandboxTwilioUrl: null,
      queuePrefix: 'linkline',
      workers: true,
      smsRate: 10,
      smsResendAfterSeconds: 120,
      lockWaitAlertMs: 5_000,
      inboundSweepSeconds: 300,
      retentionMonths: 12,
      planPolicy: { dayBeforeAt: '10:00', leadSummaryAt: '16:00', checkinWeeks: [6, 12] },
      slackApp: {
        handoffChannel: 'C0HANDOFFS',
        referralsChannel: 'C0REFERRAL',
        repingMinutes: 30,
        urgentRepingMinutes: 10,
        fallbackContact: null,
        staffed: { days: [1, 2, 3, 4, 5], start: '09:00', end: '17:00' },
        socketMode: false,
        timeoutMs: 10_000,
        sandboxApiUrl: null,
      },
      twilio: null,
      slack: null,
    });
  });

  it('reads the queue prefix, workers switch and SMS rate', () => {
    const config = loadConfig({
      QUEUE_PREFIX: 'll-east',
      WORKERS: 'off',
      SMS_RATE: '2.5',
      TWILIO_API_URL: 'http://127.0.0.1:9/',
    });
    expect(config).toMatchObject({
      queuePrefix: 'll-east',
      workers: false,
      smsRate: 2.5,
      sandboxTwilioUrl: 'http://127.0.0.1:9',
    });
    expect(() => loadConfig({ QUEUE_PREFIX: 'Bad:Prefix' })).toThrow(/QUEUE_PREFIX/);
    expect(() => loadConfig({ SMS_RATE: '-1' })).toThrow(/SMS_RATE/);
  });

  it('reads the lock-wait alert threshold and the inbound sweep interval', () => {
    const config = loadConfig({ LOCK_WAIT_ALERT_MS: '2500', SMS_INBOUND_SWEEP_SECONDS: '0' });
    expect(config).toMatchObject({ lockWaitAlertMs: 2500, inboundSweepSeconds: 0 });
    expect(() => loadConfig({ LOCK_WAIT_ALERT_MS: '20000' })).toThrow(/LOCK_WAIT_ALERT_MS/);
    expect(() => loadConfig({ SMS_INBOUND_SWEEP_SECONDS: '-5' })).toThrow(
      /SMS_INBOUND_SWEEP_SECONDS/,
    );
  });

  it('reads the retention period in months: 12 unless set, 1 to 120, named when wrong', () => {
    expect(loadConfig({}).retentionMonths).toBe(12);
    expect(loadConfig({ RETENTION_MONTHS: '84' }).retentionMonths).toBe(84);
    for (const bad of ['0', '121', '6.5', 'a year'])
      expect(problemsOf({ RETENTION_MONTHS: bad })).toEqual([
        'RETENTION_MONTHS: must be a whole number of months between 1 and 120',
      ]);
  });

  it('reads when an ambiguous send may be sent again: 120 s unless set, never under 15 s', () => {
    expect(loadConfig({}).smsResendAfterSeconds).toBe(120);
    expect(loadConfig({ SMS_RESEND_AFTER_SECONDS: '300' }).smsResendAfterSeconds).toBe(300);
    expect(() => loadConfig({ SMS_RESEND_AFTER_SECONDS: '5' })).toThrow(/SMS_RESEND_AFTER_SECONDS/);
  });

  it('reads the reminder times into the plan policy, with CHECKIN_WEEKS', () => {
    const config = loadConfig({
      REMINDER_DAY_BEFORE_AT: '18:30',
      LEAD_SUMMARY_AT: '07:05',
      CHECKIN_WEEKS: '4,8',
    });
    expect(config.planPolicy).toEqual({
      dayBeforeAt: '18:30',
      leadSummaryAt: '07:05',
      checkinWeeks: [4, 8],
    });
    expect(
      loadConfig({ REMINDER_DAY_BEFORE_AT: '00:00', LEAD_SUMMARY_AT: '23:59' }).planPolicy,
    ).toMatchObject({ dayBeforeAt: '00:00', leadSummaryAt: '23:59' });
  });

  it.each([
    ['REMINDER_DAY_BEFORE_AT', '25:00'],
    ['REMINDER_DAY_BEFORE_AT', '10am'],
    ['REMINDER_DAY_BEFORE_AT', '9:30'],
    ['LEAD_SUMMARY_AT', '16:60'],
    ['LEAD_SUMMARY_AT', '4pm'],
  ])('refuses %s=%s with one clear line naming it', (name, value) => {
    expect(problemsOf({ [name]: value })).toEqual([
      `${name}: must be a 24-hour time HH:MM between 00:00 and 23:59, e.g. 10:00`,
    ]);
  });

  it('derives PUBLIC_URL from PORT and drops a trailing slash', () => {
    expect(loadConfig({ PORT: '8080' }).http.publicUrl).toBe('http://localhost:8080');
    expect(loadConfig({ PUBLIC_URL: 'https://ll.example.org/' }).http.publicUrl).toBe(
      'https://ll.example.org',
    );
  });

  it('treats blank values as unset', () => {
    expect(loadConfig({ PORT: '', TWILIO_FROM: '  ' }).mode).toBe('sandbox');
  });

  it('uses PostgreSQL when DATABASE_URL is set', () => {
    const config = loadConfig({ DATABASE_URL: 'postgres://u:p@127.0.0.1:5432/linkline' });
    expect(config.db).toEqual({ kind: 'postgres', url: 'postgres://u:p@127.0.0.1:5432/linkline' });
  });

  it('takes a co-located PostgreSQL or Redis by its Unix socket', () => {
    const config = loadConfig({
      DATABASE_URL: 'postgres:///linkline?host=/var/run/postgresql',
      REDIS_URL: 'unix:///run/redis/redis.sock?db=2',
    });
    expect(config.db).toEqual({
      kind: 'postgres',
      url: 'postgres:///linkline?host=/var/run/postgresql',
    });
    expect(config.redis.url).toBe('unix:///run/redis/redis.sock?db=2');
    expect(redisAddress(config.redis.url)).toBe('/run/redis/redis.sock?db=2');
    expect(redisAddress('redis://127.0.0.1:6379/1')).toBe('redis://127.0.0.1:6379/1');
  });

  it.each([
    ['DATABASE_URL', 'postgres:///linkline'],
    ['DATABASE_URL', 'postgres:///linkline?host=relative/dir'],
    ['REDIS_URL', 'unix://'],
    ['REDIS_URL', 'unix://tmp/redis.sock'],
  ])('refuses %s %j: no host and no absolute socket path', (name, value) => {
    expect(problemsOf({ [name]: value }).some((p) => p.startsWith(`${name}: `))).toBe(true);
  });

  it.each([
    ['PORT', 'seventy'],
    ['PORT', '70000'],
    ['PUBLIC_URL', 'not a url'],
    ['PUBLIC_URL', 'ftp://example.org'],
    ['DATABASE_URL', 'mysql://localhost/db'],
    ['REDIS_URL', 'http://localhost:6379'],
    ['DEFAULT_TZ', 'Europe/Atlantis'],
    ['DEFAULT_LANG', 'EN'],
    ['ADMIN_TOKEN', 'too-short'],
    ['TWILIO_ACCOUNT_SID', 'AC123'],
    ['TWILIO_MESSAGING_SERVICE_SID', 'MGxyz'],
    ['TWILIO_API_URL', 'nope'],
    ['SLACK_BOT_TOKEN', 'xoxp-user-token'],
    ['SLACK_APP_TOKEN', 'xoxb-not-an-app-token'],
    ['SLACK_API_URL', 'nope'],
    ['LOG_LEVEL', 'loud'],
  ])('names %s when it is %j', (name, value) => {
    const problems = problemsOf({ [name]: value });
    expect(problems.some((p) => p.startsWith(`${name}: `))).toBe(true);
  });

  it('reports every problem at once, one line each, naming the variable', () => {
    const problems = problemsOf({ PORT: 'x', DEFAULT_TZ: 'Nowhere', LOG_LEVEL: 'loud' });
    expect(problems).toEqual([
      expect.stringMatching(/^PORT: /),
      expect.stringMatching(/^DEFAULT_TZ: /),
      expect.stringMatching(/^LOG_LEVEL: /),
    ]);
    for (const problem of problems) expect(problem).not.toContain('\n');
  });

  it('refuses an alphanumeric sender ID: conversations need replies (checklist 46)', () => {
    const problems = problemsOf({ ...TWILIO, ...SLACK, TWILIO_FROM: 'Linkline' });
    expect(problems).toEqual([
      'TWILIO_FROM: must be an E.164 phone number (two-way long code); alphanumeric sender IDs cannot receive replies',
    ]);
  });

  it('refuses a national-format number', () => {
    expect(problemsOf({ ...TWILIO, ...SLACK, TWILIO_FROM: '07700900123' })).toHaveLength(1);
  });

  it('runs in production mode with every Twilio and Slack credential', () => {
    const config = loadConfig({ ...TWILIO, ...SLACK, TWILIO_API_URL: 'http://127.0.0.1:4010/' });
    expect(config.mode).toBe('production');
    if (config.mode !== 'production') return;
    expect(config.twilio).toEqual({
      accountSid: TWILIO.TWILIO_ACCOUNT_SID,
      authToken: TWILIO.TWILIO_AUTH_TOKEN,
      from: '+447700900123',
      messagingServiceSid: null,
      apiUrl: 'http://127.0.0.1:4010',
    });
    expect(config.slack).toEqual({
      botToken: SLACK.SLACK_BOT_TOKEN,
      signingSecret: SLACK.SLACK_SIGNING_SECRET,
      appToken: null,
      apiUrl: null,
    });
  });

  it('accepts a Messaging Service instead of a number', () => {
    const { TWILIO_FROM: _, ...rest } = TWILIO;
    const config = loadConfig({
      ...rest,
      ...SLACK,
      TWILIO_MESSAGING_SERVICE_SID: `MG${'0'.repeat(32)}`,
    });
    expect(config.twilio?.messagingServiceSid).toBe(`MG${'0'.repeat(32)}`);
    expect(config.twilio?.from).toBeNull();
  });

  it('names what is missing from a partial set of credentials', () => {
    const problems = problemsOf({ ...TWILIO });
    expect(problems.map((p) => p.split(':')[0])).toEqual([
      'SLACK_BOT_TOKEN',
      'SLACK_SIGNING_SECRET',
    ]);
    expect(problems[0]).toContain('production mode');
  });

  it('asks for a sender when neither TWILIO_FROM nor a Messaging Service is set', () => {
    const { TWILIO_FROM: _, ...rest } = TWILIO;
    const problems = problemsOf({ ...rest, ...SLACK });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^TWILIO_FROM: .*TWILIO_MESSAGING_SERVICE_SID/);
  });

  it('counts a lone Slack app token as a partial set', () => {
    const names = problemsOf({ SLACK_APP_TOKEN: 'xapp-1' }).map((p) => p.split(':')[0]);
    expect(names).toEqual([
      'TWILIO_ACCOUNT_SID',
      'TWILIO_AUTH_TOKEN',
      'SLACK_BOT_TOKEN',
      'SLACK_SIGNING_SECRET',
      'TWILIO_FROM',
    ]);
  });

  it('Socket Mode (checklist 62): on needs the app token in production; off is the default', () => {
    expect(loadConfig({ ...TWILIO, ...SLACK }).slackApp.socketMode).toBe(false);
    expect(problemsOf({ ...TWILIO, ...SLACK, SLACK_SOCKET_MODE: 'on' })).toEqual([
      expect.stringMatching(/^SLACK_APP_TOKEN: required when SLACK_SOCKET_MODE=on/),
    ]);
    expect(problemsOf({ SLACK_SOCKET_MODE: 'yes' })).toEqual([
      expect.stringMatching(/^SLACK_SOCKET_MODE: must be on or off/),
    ]);
    const on = loadConfig({
      ...TWILIO,
      ...SLACK,
      SLACK_SOCKET_MODE: 'on',
      SLACK_APP_TOKEN: 'xapp-1-A0LINKLINE-1-abc',
    });
    expect(on.slackApp.socketMode).toBe(true);
    expect(on.slack?.appToken).toBe('xapp-1-A0LINKLINE-1-abc');
    // The sandbox's local Slack has its own app token.
    expect(loadConfig({ SLACK_SOCKET_MODE: 'on' }).slackApp.socketMode).toBe(true);
  });

  it('never echoes a secret value in a problem', () => {
    const problems = problemsOf({ TWILIO_AUTH_TOKEN: 'super-secret-value' });
    expect(problems.join('\n')).not.toContain('super-secret-value');
  });

  it('returns a deeply frozen object', () => {
    const config = loadConfig({ ...TWILIO, ...SLACK });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.http)).toBe(true);
    expect(Object.isFrozen(config.twilio)).toBe(true);
    expect(() => {
      (config.http as { port: number }).port = 1;
    }).toThrow(TypeError);
  });
});

describe('configHelp', () => {
  it('lists every variable with its default and help text', () => {
    const help = configHelp();
    for (const name of ENV_VARS) expect(help).toMatch(new RegExp(`^  ${name}  \\(`, 'm'));
    expect(help).toContain('PORT  (default: 3000)');
    expect(help).toContain('PUBLIC_URL  (default: http://localhost:$PORT)');
    expect(help).toContain('DATABASE_URL  (optional)');
    expect(help).toContain('embedded PGlite');
    expect(help).toContain('REMINDER_DAY_BEFORE_AT  (default: 10:00)');
    expect(help).toContain('LEAD_SUMMARY_AT  (default: 16:00)');
  });
});

describe('Slack app settings', () => {
  it('reads staffed hours and refuses malformed ones with the variable named', () => {
    const config = loadConfig({
      STAFFED_HOURS: 'Mon,Wed-Thu 10:00-16:30',
      SLACK_REPING_MINUTES: '15',
    });
    expect(config.slackApp.staffed).toEqual({ days: [1, 3, 4], start: '10:00', end: '16:30' });
    expect(config.slackApp.repingMinutes).toBe(15);
    expect(() => loadConfig({ STAFFED_HOURS: 'weekdays' })).toThrow(
      /STAFFED_HOURS: must look like/,
    );
    expect(() => loadConfig({ STAFFED_HOURS: 'Mon-Fri 17:00-09:00' })).toThrow(
      /STAFFED_HOURS: must name days/,
    );
    expect(() => loadConfig({ SLACK_HANDOFF_CHANNEL: 'handoffs' })).toThrow(
      /SLACK_HANDOFF_CHANNEL/,
    );
  });
});
