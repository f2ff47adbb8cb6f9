import { describe, expect, it } from 'vitest';
import { maskPhone } from '../src/log.js';
import { capturedLogger } from './support/log-capture.js';

describe('maskPhone', () => {
  it.each([
    ['+447700900123', '+44 77** ***123'],
    ['+12025550123', '+1 20** ***123'],
    ['+353851234567', '+353 85** **567'],
    ['+4915112345678', '+49 15** ****678'],
    ['+44 7700 900123', '+44 77** ***123'],
  ])('masks %s as %s', (input, masked) => {
    expect(maskPhone(input)).toBe(masked);
  });

  it('hides all but the last digits when the country code is unknown', () => {
    expect(maskPhone('+999123456789')).toBe('+*** ***789');
  });

  it('hides anything that is not a phone number entirely', () => {
    expect(maskPhone('U024BE7LH')).toBe('[phone]');
    expect(maskPhone('07700900123')).toBe('[phone]');
    expect(maskPhone('+4412')).toBe('[phone]');
  });
});

describe('createLogger redaction (checklist 90)', () => {
  const body = 'I feel awful today, please call me';
  const phone = '+447700900123';
  const token = 'xoxb-1234-5678-abcdefghijkl';

  it('keeps message bodies, full phone numbers and tokens out of the output', () => {
    const { logger, output } = capturedLogger('info');
    logger.info({ Body: body, From: phone, To: '+447700900456' }, 'twilio inbound');
    logger.info({ msg_created: { text: body, phone } }, 'engine event');
    logger.info({ req: { body: { Body: body } } }, 'webhook');
    logger.info(
      { headers: { authorization: `Bearer ${token}`, 'x-twilio-signature': 'c2lnbmF0dXJl' } },
      'headers',
    );
    logger.info({ slack: { token, text: body, signingSecret: 'shh-its-a-secret' } }, 'slack');
    logger.info({ participant: { phone, displayName: 'Ada Lovelace' } }, 'participant');
    logger.error({ err: Object.assign(new Error('send failed'), { body }) }, 'send failed');

    const text = output();
    expect(text).not.toContain(body);
    expect(text).not.toContain('447700900123');
    expect(text).not.toContain('447700900456');
    expect(text).not.toContain(token);
    expect(text).not.toContain('c2lnbmF0dXJl');
    expect(text).not.toContain('shh-its-a-secret');
    expect(text).not.toContain('Ada Lovelace');
    expect(text).toContain('+44 77** ***123');
    expect(text).toContain('send failed');
  });

  it("never changes the caller's objects; an Error keeps its class and message", () => {
    const { logger, output } = capturedLogger('info');
    const fields = { participant: { phone, note: { text: body } }, sid: 'SM1' };
    const err = Object.assign(new TypeError('bad input'), { body });
    logger.child({ phone }).error({ ...fields, err }, 'failed');
    expect(fields.participant.phone).toBe(phone);
    expect(fields.participant.note.text).toBe(body);
    expect(err.body).toBe(body);
    const line = JSON.parse(output());
    expect(line.phone).toBe('+44 77** ***123');
    expect(line.participant).toEqual({ phone: '+44 77** ***123', note: { text: '[redacted]' } });
    expect(line.err).toMatchObject({ type: 'TypeError', message: 'bad input', body: '[redacted]' });
    expect(line.sid).toBe('SM1');
    // A child's child: its bindings are censored too.
    const more = capturedLogger('info');
    more.logger.child({ component: 'x' }).child({ To: phone }).info('grandchild');
    expect(JSON.parse(more.output()).To).toBe('+44 77** ***123');
  });

  it('logs requests by method and path only', () => {
    const { logger, output } = capturedLogger('info');
    logger.info({ req: { method: 'POST', url: `/sms?token=${token}` } }, 'request');
    expect(JSON.parse(output()).req).toEqual({ method: 'POST', path: '/sms' });
  });

  it('writes one JSON line per event with a level label', () => {
    const { logger, output } = capturedLogger('info');
    logger.debug('hidden');
    logger.warn({ sid: 'SM123' }, 'visible');
    const lines = output().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] ?? '')).toMatchObject({
      level: 'warn',
      sid: 'SM123',
      msg: 'visible',
    });
  });
});
