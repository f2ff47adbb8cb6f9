import type { SlackUserSpec } from '../../sandbox/slack/index.js';
import type { Db } from '../../store/db.js';

/** The sandbox workspace's link workers, so the demo's buttons and replies work. */
export async function seedLinkWorkers(db: Db, users: readonly SlackUserSpec[]): Promise<void> {
  for (const u of users.filter((x) => x.title === 'Link worker'))
    await db.query(
      'INSERT INTO link_workers (slack_user_id, name) VALUES ($1, $2) ON CONFLICT (slack_user_id) DO NOTHING',
      [u.id, u.realName],
    );
}
