import { describe, expect, it } from 'vitest';
import {
  classifyNumber,
  isTextable,
  type NumberKind,
} from '../../../src/channels/sms/number-type.js';

describe('classifyNumber (checklist 38)', () => {
  it.each<[string, string, NumberKind]>([
    ['+447911123456', 'UK mobile (07)', 'mobile'],
    ['+447700900123', 'Ofcom drama mobile 07700 900xxx', 'mobile'],
    ['+447624123456', 'Isle of Man mobile', 'mobile'],
    ['+442079460000', 'London landline (020)', 'landline'],
    ['+441134960000', 'Leeds landline (0113)', 'landline'],
    ['+441632960000', 'Ofcom drama landline 01632 960xxx', 'landline'],
    ['+445612345678', 'UK VoIP (056)', 'voip'],
    ['+448001111111', 'freephone 0800', 'special'],
    ['+449098790000', 'premium rate 09', 'special'],
    ['+443001234567', 'non-geographic 03', 'special'],
    ['+447012345678', 'personal number 070', 'special'],
    ['+447640123456', 'pager 076', 'special'],
    ['+353851234567', 'Irish mobile', 'mobile'],
    ['+12025550123', 'US number (mobile or landline)', 'unknown'],
    ['+4477009001234567', 'too long', 'invalid'],
    ['07700900123', 'national format', 'invalid'],
    ['+44123', 'too short', 'invalid'],
    ['', 'empty', 'invalid'],
  ])('%s (%s) is %s', (number, _label, kind) => {
    expect(classifyNumber(number)).toBe(kind);
  });

  it('lets only mobiles receive health content without a Lookup', () => {
    const kinds: NumberKind[] = ['mobile', 'landline', 'voip', 'special', 'unknown', 'invalid'];
    expect(kinds.filter(isTextable)).toEqual(['mobile']);
  });
});
