import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { bookParticipant, cancelBooking } from '../../domain/booking/bookings.js';
import {
  addParticipant,
  addProfessionalReferral,
  participantSchema,
} from '../../domain/booking/participants.js';
import { type AdminContext, idOf } from './context.js';
import { parseBody } from './errors.js';
import { presentBooking, presentParticipant } from './present.js';

const bookingSchema = z
  .strictObject({
    participant_id: z.uuid(),
    activity_id: z.uuid().optional(),
    session_id: z.uuid().optional(),
  })
  .refine((b) => (b.activity_id === undefined) !== (b.session_id === undefined), {
    path: ['session_id'],
    message: 'give activity_id (the whole course) or session_id (one session), not both',
  });

/**
 * Adding someone is a professional referral: a referral row (route `referral_route`, default
 * link_worker), then, after commit, the referral_welcome flow introduces the link worker
 * (`link_worker_name`) and asks consent; nothing else is sent until they agree. `welcome:
 * false` adds them without texting (e.g. consent was taken in person and is recorded elsewhere).
 */
const addParticipantSchema = participantSchema.extend({
  link_worker_name: z.string().trim().min(1).max(40).optional(),
  welcome: z.boolean().default(true),
});

export function registerBookingRoutes(app: FastifyInstance, c: AdminContext): void {
  app.post('/participants', async (request, reply) => {
    const {
      link_worker_name: worker,
      welcome,
      ...input
    } = parseBody(addParticipantSchema, request.body);
    const participant = await c.tx(request.log, async (tx, ctx) => {
      const p = await addParticipant(tx, input, ctx);
      await addProfessionalReferral(tx, p.id, input.referral_route ?? 'link_worker', ctx);
      return p;
    });
    const started =
      welcome && c.startWelcome
        ? await c.startWelcome(participant.id, worker ?? null)
        : 'not_requested';
    return reply
      .code(201)
      .send({ participant: presentParticipant(participant), welcome: started ?? 'started' });
  });

  app.post('/bookings', async (request, reply) => {
    const body = parseBody(bookingSchema, request.body);
    const target =
      body.session_id === undefined
        ? { activityId: body.activity_id! }
        : { sessionId: body.session_id };
    const outcomes = await c.tx(request.log, (tx, ctx) =>
      bookParticipant(tx, target, body.participant_id, ctx),
    );
    const created = outcomes.some((o) => o.created);
    return reply.code(created ? 201 : 200).send({
      bookings: outcomes.map((o) => ({ ...presentBooking(o.booking), created: o.created })),
    });
  });

  app.post('/bookings/:id/cancel', async (request) => {
    const id = idOf(request.params, 'booking');
    parseBody(z.strictObject({}), request.body);
    const out = await c.tx(request.log, (tx, ctx) => cancelBooking(tx, id, ctx));
    return { booking: presentBooking(out.booking), promoted: out.promoted.map(presentBooking) };
  });
}
