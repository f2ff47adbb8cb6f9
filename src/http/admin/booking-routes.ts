import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { bookParticipant, cancelBooking } from '../../domain/booking/bookings.js';
import { addParticipant, participantSchema } from '../../domain/booking/participants.js';
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

export function registerBookingRoutes(app: FastifyInstance, c: AdminContext): void {
  app.post('/participants', async (request, reply) => {
    const input = parseBody(participantSchema, request.body);
    const participant = await c.tx(request.log, (tx, ctx) => addParticipant(tx, input, ctx));
    return reply.code(201).send({ participant: presentParticipant(participant) });
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
