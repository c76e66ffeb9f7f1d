import { Router } from 'express';
import type { AppointmentService } from '../appointmentService';
import {
  appointmentBodySchema,
  idSchema,
  logQuerySchema,
  resyncBodySchema,
  revisionOnlySchema,
  revisionQuerySchema,
} from '../schemas';
import { param, parse } from '../validation';

export function appointmentRoutes(service: AppointmentService): Router {
  const router = Router();

  router.put('/v1/appointments/:id', async (req, res) => {
    const id = param(req, 'id', idSchema);
    const body = parse(appointmentBodySchema, req.body);
    res.status(202).json(await service.put(req.tenantId!, id, body));
  });

  router.post('/v1/appointments/:id/cancel', async (req, res) => {
    const id = param(req, 'id', idSchema);
    const { revision } = parse(revisionOnlySchema, req.body);
    res.status(202).json(await service.transition(req.tenantId!, id, 'cancel', revision));
  });

  router.delete('/v1/appointments/:id', async (req, res) => {
    const id = param(req, 'id', idSchema);
    const { revision } = parse(revisionQuerySchema, req.query, 'query');
    res.status(202).json(await service.transition(req.tenantId!, id, 'delete', revision));
  });

  router.post('/v1/appointments/:id/resync', async (req, res) => {
    const id = param(req, 'id', idSchema);
    const body = parse(resyncBodySchema, req.body);
    res.status(202).json(await service.resync(req.tenantId!, id, body));
  });

  router.get('/v1/appointments/:id/log', async (req, res) => {
    const id = param(req, 'id', idSchema);
    const query = parse(logQuerySchema, req.query, 'query');
    res.json(await service.log(req.tenantId!, id, { limit: query.limit, after: query.cursor }));
  });

  router.get('/v1/appointments/:id', async (req, res) => {
    const id = param(req, 'id', idSchema);
    res.json(await service.status(req.tenantId!, id));
  });

  return router;
}
