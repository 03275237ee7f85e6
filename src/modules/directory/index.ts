import type { TesseraModule } from '../../platform/module.ts';
import { directoryRoutes } from './directory.routes.ts';
import { createDirectoryService } from './directory.service.ts';

export type { Customer, Group, Person } from './directory.schemas.ts';
export { customerVisible, groupInfo, isGroupMember, personInfo } from './directory.service.ts';

/** Customers, people (agents and customer contacts) and assignment groups with tiers. */
export const directoryModule: TesseraModule = {
  name: 'directory',
  routes(app, { db }) {
    directoryRoutes(app, createDirectoryService({ db }));
  },
  enums: {
    customerStatus: {
      active: { en: 'Active', 'zh-CN': '有效' },
      inactive: { en: 'Inactive', 'zh-CN': '停用' },
    },
    personKind: {
      agent: { en: 'Agent', 'zh-CN': '服务人员' },
      contact: { en: 'Customer contact', 'zh-CN': '客户联系人' },
    },
    groupTier: {
      '1': { en: 'Tier 1 (service desk)', 'zh-CN': '一线（服务台）' },
      '2': { en: 'Tier 2', 'zh-CN': '二线' },
      '3': { en: 'Tier 3 (specialists)', 'zh-CN': '三线（专家/厂商）' },
    },
  },
};
