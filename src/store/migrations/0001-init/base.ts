// Part of migration 0001-init. Frozen once released: change the schema in a new migration.
export const base = `
-- Erasure design (UK GDPR art. 17; checklist B8).
-- A participant row is never deleted. Erasure turns it into a pseudonymous tombstone:
-- the direct identifiers (phone, first_name, postcode_part, fields, tags,
-- communication_needs, best_time) are nulled or emptied and erased_at is set, while the
-- coarse reporting categories (referral route, primary reason, TCF profile bands) and the
-- foreign keys stay, so referrals, bookings, attendance and answer scores still count in
-- reports by route, reason and take-up. Free text tied to the person is nulled where it
-- lives: messages.body and messages.address, answers.value, conversation_sessions.state,
-- and raw inbound payloads are deleted. consent_events and audit_events are append-only
-- (a trigger refuses UPDATE, DELETE and TRUNCATE), so by convention their detail holds
-- ids and codes only, never PII: erasure never needs to touch them. If the person had
-- opted out, their phone is kept in suppressions (the one record needed so they are
-- never messaged again).

CREATE FUNCTION ll_set_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.updated_at := now();
  RETURN NEW;
END
$$;

CREATE FUNCTION ll_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
    USING ERRCODE = 'restrict_violation';
END
$$;
`;
