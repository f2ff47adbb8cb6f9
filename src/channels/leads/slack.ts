/**
 * The activity leads' Slack listeners: Attended / Absent on the nudge, "Add a drop-in" (a
 * modal), and "Cancel or move" (a modal). Registered on the Bolt app by bolt-app.ts.
 */
import type { App, BlockAction, ButtonAction, RespondFn, ViewSubmitAction } from '@slack/bolt';
import type { Logger } from 'pino';
import type { SlackDeps } from '../slack/deps.js';
import { DROP_IN_VIEW, openDropIn, submitDropIn } from './drop-in.js';
import {
  ATTENDANCE_DROPIN,
  ATTENDANCE_MARK,
  attendanceClick,
  nudgeCard,
  SESSION_CHANGE_OPEN,
} from './index.js';
import { openSessionChange, SESSION_CHANGE_VIEW, submitSessionChange } from './session-change.js';

async function tell(respond: RespondFn, text: string): Promise<void> {
  await respond({ response_type: 'ephemeral', replace_original: false, text });
}

export function registerLeadHandlers(app: App, deps: () => SlackDeps, log: Logger): void {
  app.action<BlockAction<ButtonAction>>(
    ATTENDANCE_MARK,
    async ({ ack, body, action, client, respond }) => {
      await ack();
      const out = await attendanceClick(deps(), body.user.id, action.value);
      log.info({ ok: out.ok }, 'attendance button');
      if (!out.ok) await tell(respond, out.ephemeral);
      const channel = body.channel?.id;
      const card = out.ok ? out.card : null;
      // chat.update is idempotent: a direct call (with the client's retries) is safe here.
      if (card && channel && body.message?.ts)
        await client.chat.update({ channel, ts: body.message.ts, ...card } as never);
    },
  );

  // Modals open with the click's trigger_id, which Slack honours for 3 seconds: at once.
  app.action<BlockAction<ButtonAction>>(
    ATTENDANCE_DROPIN,
    async ({ ack, body, action, client, respond }) => {
      await ack();
      const out = await openDropIn(deps(), body.user.id, action.value, {
        channel: body.channel?.id ?? null,
        ts: body.message?.ts ?? null,
      });
      if (!out.ok) return tell(respond, out.ephemeral);
      await client.views.open({ trigger_id: body.trigger_id, view: out.view as never });
    },
  );

  app.view<ViewSubmitAction>(DROP_IN_VIEW, async ({ ack, body, view, client }) => {
    const out = await submitDropIn(deps(), body.user.id, view);
    log.info({ outcome: out.kind }, 'drop-in submitted');
    if (out.kind === 'errors') {
      await ack({ response_action: 'errors', errors: out.errors });
      return;
    }
    await ack();
    const { c: channel, t: ts, s: sessionId } = out.meta;
    const card = channel && ts ? await nudgeCard(deps(), sessionId, null) : null;
    if (card && channel && ts) await client.chat.update({ channel, ts, ...card } as never);
  });

  app.action<BlockAction<ButtonAction>>(
    SESSION_CHANGE_OPEN,
    async ({ ack, body, action, client, respond }) => {
      await ack();
      const out = await openSessionChange(deps(), body.user.id, action.value);
      if (!out.ok) return tell(respond, out.ephemeral);
      await client.views.open({ trigger_id: body.trigger_id, view: out.view as never });
    },
  );

  app.view<ViewSubmitAction>(SESSION_CHANGE_VIEW, async ({ ack, body, view }) => {
    const out = await submitSessionChange(deps(), body.user.id, view);
    log.info(
      out.kind === 'done'
        ? { outcome: out.change, notified: out.notified }
        : { outcome: 'errors', fields: Object.keys(out.errors) },
      'session change submitted',
    );
    if (out.kind === 'errors') await ack({ response_action: 'errors', errors: out.errors });
    else await ack();
  });
}
