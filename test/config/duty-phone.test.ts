import { describe, expect, it } from 'vitest';
import { configHelp, loadConfig } from '../../src/config/load.js';
import { problemsOf } from './support.js';

// DUTY_PHONE and DUTY_ALERT_MINUTES (checklists 83, 84): the second channel for urgent
// hand-offs. Same style as load.test.ts; kept apart so that file's defaults stay untouched.

describe('duty phone settings', () => {
  it('unset: no duty phone at all (DUTY_ALERT_MINUTES alone changes nothing)', () => {
    expect(loadConfig({}).slackApp.duty).toBeUndefined();
    expect(loadConfig({ DUTY_ALERT_MINUTES: '3' }).slackApp.duty).toBeUndefined();
  });

  it('reads the duty phone with a 5-minute Slack delay unless DUTY_ALERT_MINUTES says otherwise', () => {
    expect(loadConfig({ DUTY_PHONE: '+447700900123' }).slackApp.duty).toEqual({
      phone: '+447700900123',
      alertMinutes: 5,
    });
    expect(
      loadConfig({ DUTY_PHONE: ' +447700900123 ', DUTY_ALERT_MINUTES: '2' }).slackApp.duty,
    ).toEqual({ phone: '+447700900123', alertMinutes: 2 });
  });

  it('refuses a number that is not E.164, naming the variable, with one line', () => {
    expect(problemsOf({ DUTY_PHONE: '07700 900123' })).toEqual([
      'DUTY_PHONE: must be an E.164 mobile number such as +447700900123',
    ]);
    expect(problemsOf({ DUTY_PHONE: 'duty' })).toEqual([
      'DUTY_PHONE: must be an E.164 mobile number such as +447700900123',
    ]);
  });

  it('refuses a landline or a special-rate number: it could not take the text', () => {
    for (const phone of ['+441632960123', '+448001111111'])
      expect(problemsOf({ DUTY_PHONE: phone })).toEqual([
        'DUTY_PHONE: must be a mobile number that can take texts (not a landline or special-rate number)',
      ]);
  });

  it('refuses a delay that is not a whole number of minutes from 1 to 60', () => {
    const base = { DUTY_PHONE: '+447700900123' };
    expect(problemsOf({ ...base, DUTY_ALERT_MINUTES: 'soon' })).toEqual([
      'DUTY_ALERT_MINUTES: must be a number of minutes',
    ]);
    expect(problemsOf({ ...base, DUTY_ALERT_MINUTES: '0' })).toEqual([
      'DUTY_ALERT_MINUTES: must be at least 1',
    ]);
    expect(problemsOf({ ...base, DUTY_ALERT_MINUTES: '1.5' })).toEqual([
      'DUTY_ALERT_MINUTES: must be a whole number of minutes',
    ]);
    expect(problemsOf({ ...base, DUTY_ALERT_MINUTES: '61' })).toEqual([
      'DUTY_ALERT_MINUTES: must be at most 60',
    ]);
  });

  it('is listed by linkline config', () => {
    const help = configHelp();
    expect(help).toContain('DUTY_PHONE  (optional)');
    expect(help).toContain('DUTY_ALERT_MINUTES  (default: 5)');
  });
});
