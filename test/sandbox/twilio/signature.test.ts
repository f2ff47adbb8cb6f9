import fc from 'fast-check';
import twilio from 'twilio';
import { describe, expect, it } from 'vitest';
import { twilioSignature } from '../../../src/sandbox/twilio/signature.js';

const TOKEN = '12345';

describe('twilioSignature agrees with the twilio SDK', () => {
  it("matches Twilio's documented example", () => {
    const url = 'https://mycompany.com/myapp.php?foo=1&bar=2';
    const params = {
      CallSid: 'CA1234567890ABCDE',
      Caller: '+14158675309',
      Digits: '1234',
      From: '+14158675309',
      To: '+18005551212',
    };
    expect(twilioSignature(TOKEN, url, params)).toBe('RSOYDt4T1cUTdK1PDd93/VVr8B8=');
    expect(twilio.validateRequest(TOKEN, 'RSOYDt4T1cUTdK1PDd93/VVr8B8=', url, params)).toBe(true);
  });

  it.each([
    ['an empty form', 'https://a.example/sms', {}],
    ['a query string', 'https://a.example/status?m=3f2a&x=%20y', { MessageStatus: 'sent' }],
    ['awkward values', 'https://a.example/sms', { Body: ' Ŵ ŷ 👍 +&% \n', From: '+44' }],
    ['repeated values', 'https://a.example/sms', { MediaUrl: ['b', 'a', 'b'] }],
  ])('for %s', (_name, url, params: Record<string, string | string[]>) => {
    const signature = twilioSignature(TOKEN, url, params);
    expect(twilio.validateRequest(TOKEN, signature, url, params)).toBe(true);
    expect(twilio.getExpectedTwilioSignature(TOKEN, url, params)).toBe(signature);
  });

  it('for arbitrary forms', () => {
    const form = fc.dictionary(
      fc.string({ minLength: 1, maxLength: 12 }),
      fc.string({ maxLength: 40 }),
    );
    fc.assert(
      fc.property(form, fc.webPath(), (params, path) => {
        const url = `https://linkline.example.org${path}`;
        const signature = twilioSignature(TOKEN, url, params);
        return twilio.getExpectedTwilioSignature(TOKEN, url, params) === signature;
      }),
      { numRuns: 200 },
    );
  });
});
