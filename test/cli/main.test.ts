import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
// The local tsx binary rather than `npx tsx`: npx may add its own warnings to stderr.
const tsx = fileURLToPath(new URL('../../node_modules/.bin/tsx', import.meta.url));

type Result = { code: number | null; stdout: string; stderr: string };

/** Runs the CLI with only the given variables (plus PATH/HOME), never the test's own env. */
function linkline(args: string[], env: Record<string, string> = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(tsx, ['src/cli/main.ts', ...args], {
      cwd: root,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe.concurrent('linkline CLI', () => {
  it('serve with a bad environment prints one line per problem and exits 1', async () => {
    const { code, stdout, stderr } = await linkline(['serve'], {
      PORT: 'eighty',
      DEFAULT_TZ: 'Mars/Olympus_Mons',
      TWILIO_FROM: 'Linkline',
    });
    expect(code).toBe(1);
    expect(stdout).toBe('');
    const lines = stderr.trim().split('\n');
    expect(lines[0]).toMatch(/invalid configuration/);
    expect(lines).toContain('PORT: must be a whole number between 0 and 65535');
    expect(lines).toContain('DEFAULT_TZ: must be an IANA time zone such as Europe/London');
    expect(lines).toContain(
      'TWILIO_FROM: must be an E.164 phone number (two-way long code); alphanumeric sender IDs cannot receive replies',
    );
    // The partial Twilio/Slack set is named variable by variable, too.
    for (const name of ['TWILIO_ACCOUNT_SID', 'TWILIO_AUTH_TOKEN', 'SLACK_BOT_TOKEN']) {
      expect(lines.some((line) => line.startsWith(`${name}: `))).toBe(true);
    }
    expect(lines).toHaveLength(1 + 3 + 4);
    expect(stderr).not.toMatch(/\n\s+at /);
  });

  it('config prints every variable with its help', async () => {
    const { code, stdout } = await linkline(['config']);
    expect(code).toBe(0);
    expect(stdout).toContain('PORT  (default: 3000)');
    expect(stdout).toContain('TWILIO_FROM  (optional)');
    expect(stdout).toContain('LOCALES_DIR  (default: ./locales)');
  });

  it('config --check prints ok for a valid environment', async () => {
    const { code, stdout } = await linkline(['config', '--check']);
    expect(code).toBe(0);
    expect(stdout.trim()).toBe('ok (sandbox mode)');
  });

  it('config --check prints the problems and exits 1', async () => {
    const { code, stderr } = await linkline(['config', '--check'], { ADMIN_TOKEN: 'short' });
    expect(code).toBe(1);
    expect(stderr).toContain('ADMIN_TOKEN: must be at least 16 characters');
  });

  it('help prints usage', async () => {
    const { code, stdout } = await linkline([]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Usage: linkline <command>/);
  });

  it('an unknown command prints usage on stderr and exits 2', async () => {
    const { code, stdout, stderr } = await linkline(['frobnicate']);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain('unknown command: frobnicate');
    expect(stderr).toContain('Usage: linkline');
  });

  it('an unknown option exits 2 without a stack trace', async () => {
    const { code, stderr } = await linkline(['config', '--nope']);
    expect(code).toBe(2);
    expect(stderr).not.toMatch(/\n\s+at /);
  });

  it('report with a bad date names it and exits 2 before opening any database', async () => {
    const { code, stdout, stderr } = await linkline([
      'report',
      '--from',
      '2026-02-30',
      '--to',
      '2026-03',
    ]);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain('linkline report: --from: not a real calendar date');
    expect(stderr).toContain('linkline report: --to: expected a date YYYY-MM-DD');
    expect(stderr).toContain('Usage: linkline report');
    expect(stderr).not.toMatch(/\n\s+at /);
  });

  it('report on an embedded database another process holds says so and exits 1', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'linkline-report-'));
    const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    try {
      await writeFile(join(dir, 'linkline.lock'), String(other.pid));
      const args = ['report', '--from', '2026-03-01', '--to', '2026-04-01'];
      const { code, stdout, stderr } = await linkline(args, { DATA_DIR: dir });
      expect(code).toBe(1);
      expect(stdout).toBe('');
      expect(stderr).toContain(`the embedded database in ${dir} is in use by process ${other.pid}`);
      expect(stderr).not.toMatch(/\n\s+at /);
    } finally {
      other.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('report prints CSV from the embedded database (DATA_DIR)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'linkline-report-'));
    try {
      const args = ['report', '--from', '2026-03-01', '--to', '2026-04-01', '--format', 'csv'];
      const { code, stdout, stderr } = await linkline(args, { DATA_DIR: dir });
      expect(stderr).toBe('');
      expect(code).toBe(0);
      const lines = stdout.trim().split('\n');
      expect(lines[0]).toBe('section,item,value');
      expect(lines).toContain('period,zone,Europe/London');
      expect(lines).toContain('take_up,referred,0');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
