/**
 * Luxon asks `Intl.DateTimeFormat#formatToParts` for a zone's UTC offset every time it makes
 * or moves a DateTime in an IANA zone, and it keeps no answer. A conversation turn makes
 * several (the engine's "now" in the participant's zone, an ask's timeout, quiet hours), and on
 * the conversation benchmark this was 5% of a worker's CPU. Offsets are memoised here by zone
 * and UTC minute: every offset change since 1990 happens on a whole minute, so within one
 * minute a zone has one offset, and the answer is the one luxon would have computed.
 * Instants outside 1990-2099 are not memoised (historic local mean times changed at odd
 * seconds). Bounded: a zone's memo is emptied when it is full.
 */
import { IANAZone } from 'luxon';
import { memoize } from '../../engine/memo.js';

const FROM_MS = Date.UTC(1990, 0, 1);
const TO_MS = Date.UTC(2100, 0, 1);
const PER_ZONE_MAX = 20_000;

type OffsetFn = (this: IANAZone, ts: number) => number;
const ORIGINAL = Symbol.for('linkline.luxon.offset');

/** Installs the memo on luxon's IANAZone (once per process; later calls do nothing). */
export function memoizeZoneOffsets(): void {
  const proto = IANAZone.prototype as unknown as Record<symbol, OffsetFn | undefined> & {
    offset: OffsetFn;
  };
  if (proto[ORIGINAL]) return;
  const original = proto.offset;
  proto[ORIGINAL] = original;
  // By zone name: the offset at each UTC minute, computed at the minute's start.
  const byZone = new Map<string, (minute: number) => number>();
  proto.offset = function offset(this: IANAZone, ts: number): number {
    if (!(ts >= FROM_MS && ts < TO_MS) || !this.isValid) return original.call(this, ts);
    let memo = byZone.get(this.name);
    if (!memo) {
      memo = memoize((minute: number) => original.call(this, minute * 60_000), PER_ZONE_MAX);
      byZone.set(this.name, memo);
    }
    return memo(Math.floor(ts / 60_000));
  };
}

/** Luxon's own offset computation, unmemoised (for tests comparing the two). */
export function luxonOffset(zone: IANAZone, ts: number): number {
  const proto = IANAZone.prototype as unknown as Record<symbol, OffsetFn | undefined>;
  const original = proto[ORIGINAL] ?? (IANAZone.prototype.offset as OffsetFn);
  return original.call(zone, ts);
}
