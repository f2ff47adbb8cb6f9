import { init0001 } from './0001-init.js';
import { bookings0002 } from './0002-bookings.js';
import { runner0003 } from './0003-runner.js';
import { slack0005 } from './0005-slack.js';
import { perf0006 } from './0006-perf.js';
import { sendLease0007 } from './0007-send-lease.js';
import { leads0009 } from './0009-leads.js';
import { smsOps0011 } from './0011-sms-ops.js';
import { leadsDropIns0012 } from './0012-leads-drop-ins.js';
import { slackTools0013 } from './0013-slack-tools.js';
import { slackInboxRetry0014 } from './0014-slack-inbox-retry.js';
import { leadPhone0017 } from './0017-lead-phone.js';
import { slackNotices0018 } from './0018-slack-notices.js';
import { slackDelete0019 } from './0019-slack-delete.js';
import { crisisDuty0021 } from './0021-crisis-duty.js';
import { twilioErase0022 } from './0022-twilio-erase.js';
import type { Migration } from './migration.js';

export type { Migration } from './migration.js';

/** Every migration this code knows, in the order they apply. Append only. */
export const MIGRATIONS: readonly Migration[] = [
  init0001,
  bookings0002,
  runner0003,
  slack0005,
  perf0006,
  sendLease0007,
  leads0009,
  smsOps0011,
  leadsDropIns0012,
  slackTools0013,
  slackInboxRetry0014,
  leadPhone0017,
  slackNotices0018,
  slackDelete0019,
  crisisDuty0021,
  twilioErase0022,
];
