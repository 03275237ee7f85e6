import type { TesseraModule } from '../platform/module.ts';
import { directoryModule } from './directory/index.ts';
import { incidentModule } from './incident/index.ts';
import { integrationsModule, webhooksModule } from './integrations/index.ts';
import { reportsModule } from './reports/index.ts';
import { serviceDeskModule } from './service-desk/index.ts';
import { slaModule } from './sla/index.ts';

/** Every process module, in dependency order. Adding a module = adding it here. */
export const modules: TesseraModule[] = [
  directoryModule,
  serviceDeskModule,
  incidentModule,
  slaModule,
  integrationsModule,
  webhooksModule,
  reportsModule,
];
