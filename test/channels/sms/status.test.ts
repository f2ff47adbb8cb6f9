import { describe, expect, it } from 'vitest';
import { describeTwilioError, permanentReason } from '../../../src/channels/sms/errors.js';
import {
  type MessageStatus,
  nextStatus,
  parseStatusCallback,
} from '../../../src/channels/sms/status.js';
import { ACCOUNT_SID } from './fixtures.js';

function replay(sequence: readonly MessageStatus[]): MessageStatus | null {
  return sequence.reduce<MessageStatus | null>((current, s) => nextStatus(current, s), null);
}

describe('nextStatus: a monotonic status machine (checklist 39, 40)', () => {
  it.each<[string, MessageStatus[], MessageStatus]>([
    ['in order', ['queued', 'sent', 'delivered'], 'delivered'],
    [
      'with a Messaging Service',
      ['accepted', 'queued', 'sending', 'sent', 'delivered'],
      'delivered',
    ],
    ['delivered then a late sent', ['queued', 'delivered', 'sent'], 'delivered'],
    ['delivered twice', ['sent', 'delivered', 'delivered'], 'delivered'],
    ['queued after sent', ['sent', 'queued'], 'sent'],
    ['undelivered after sent', ['queued', 'sent', 'undelivered'], 'undelivered'],
    ['sent after undelivered', ['queued', 'undelivered', 'sent'], 'undelivered'],
    ['delivered after failed', ['failed', 'delivered'], 'failed'],
    ['undelivered after delivered', ['delivered', 'undelivered'], 'delivered'],
    ['read after delivered', ['delivered', 'read'], 'read'],
    ['canceled while queued', ['queued', 'canceled', 'sent'], 'canceled'],
    ['only duplicates', ['sent', 'sent', 'sent'], 'sent'],
  ])('%s', (_name, sequence, final) => {
    expect(replay(sequence)).toBe(final);
  });

  it('gives the same final status for every order of the same callbacks', () => {
    const events: MessageStatus[] = ['queued', 'sent', 'delivered'];
    const orders = [
      [0, 1, 2],
      [0, 2, 1],
      [1, 0, 2],
      [1, 2, 0],
      [2, 0, 1],
      [2, 1, 0],
    ];
    for (const order of orders) {
      expect(replay(order.map((i) => events[i] as MessageStatus))).toBe('delivered');
    }
  });
});

describe('parseStatusCallback', () => {
  const sid = `SM${'9e'.repeat(16)}`;
  const form = {
    MessageSid: sid,
    SmsSid: sid,
    MessageStatus: 'undelivered',
    SmsStatus: 'undelivered',
    AccountSid: ACCOUNT_SID,
    To: '+447700900123',
    From: '+447700900100',
    ApiVersion: '2010-04-01',
    ErrorCode: '30003',
  };

  it('reads status, error code and our id from the URL query', () => {
    expect(parseStatusCallback(form, new URLSearchParams('m=out-7'))).toEqual({
      ok: true,
      value: {
        messageSid: sid,
        accountSid: ACCOUNT_SID,
        status: 'undelivered',
        errorCode: 30003,
        ourId: 'out-7',
      },
    });
  });

  it('has no error code or id when none were sent', () => {
    const { ErrorCode: _e, ...ok } = form;
    const parsed = parseStatusCallback({ ...ok, MessageStatus: 'delivered' });
    expect(parsed.ok && parsed.value).toMatchObject({
      status: 'delivered',
      errorCode: null,
      ourId: null,
    });
  });

  it('refuses an unknown status or a malformed sid', () => {
    const parsed = parseStatusCallback({ ...form, MessageStatus: 'teleported', MessageSid: 'x' });
    expect(!parsed.ok && parsed.errors.map((e) => e.field).sort()).toEqual([
      'MessageSid',
      'MessageStatus',
    ]);
  });
});

describe('Twilio error table', () => {
  it.each([
    [21610, false, 'opted_out', 'opted_out'],
    [21211, false, 'invalid_number', 'invalid_number'],
    [21614, false, 'landline', 'landline'],
    [21635, false, 'landline', 'landline'],
    [30006, false, 'landline', 'landline'],
    [20429, true, 'rate_limited', 'other'],
    [30036, false, 'expired', 'other'],
    [99999, false, 'other', 'other'],
  ] as const)('%i: retryable %s, reason %s', (code, retryable, reason, permanent) => {
    expect(describeTwilioError(code)).toMatchObject({ retryable, reason });
    expect(permanentReason(code)).toBe(permanent);
  });

  it('re-sends later only after 30003 and 30008, not 30005 or 30007 (checklist 41)', () => {
    const redeliver = [30003, 30005, 30007, 30008].map((c) => describeTwilioError(c).redeliver);
    expect(redeliver).toEqual([true, false, false, true]);
  });
});
