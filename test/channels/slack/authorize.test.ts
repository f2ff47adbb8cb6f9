import type { WebClient } from '@slack/web-api';
import { describe, expect, it } from 'vitest';
import { cachedAuthorize } from '../../../src/channels/slack/bolt-app.js';

// Bolt given a token calls auth.test at construction and keeps the promise: a Slack 5xx then
// was an unhandled rejection that killed a worker (found by the long chaos run).

describe('the Bolt authorize', () => {
  it('asks Slack on first use, tries again after a failure, then keeps the answer', async () => {
    let calls = 0;
    const client = {
      auth: {
        test: async () => {
          calls += 1;
          if (calls === 1) throw new Error('An HTTP protocol error occurred: statusCode = 500');
          return { ok: true, bot_id: 'B0BOT', user_id: 'U0BOT' };
        },
      },
    } as unknown as WebClient;
    const authorize = cachedAuthorize(client, 'xoxb-test');
    expect(calls).toBe(0);
    const source = { teamId: 'T0', enterpriseId: undefined, isEnterpriseInstall: false };
    await expect(authorize(source)).rejects.toThrow(/500/);
    const ok = { botToken: 'xoxb-test', botId: 'B0BOT', botUserId: 'U0BOT' };
    expect(await authorize(source)).toEqual(ok);
    expect(await authorize(source)).toEqual(ok);
    expect(calls).toBe(2);
  });
});
