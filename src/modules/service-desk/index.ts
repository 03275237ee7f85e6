import type { TesseraModule } from '../../platform/module.ts';
import { serviceDeskRoutes } from './service-desk.routes.ts';
import { createServiceDeskService } from './service-desk.service.ts';

export type {
  Article,
  ArticleSuggestion,
  RequestItem,
  RoutingCriteria,
  RoutingRule,
  ServiceRequest,
} from './service-desk.schemas.ts';
export {
  createServiceDeskService,
  nextTierGroup,
  recordRequestSlaEvent,
  requestHistories,
  routeTicket,
  suggestArticles,
} from './service-desk.service.ts';

/** Routing rules, the request catalogue, service requests and the knowledge base. */
export const serviceDeskModule: TesseraModule = {
  name: 'service-desk',
  routes(app, { db }) {
    serviceDeskRoutes(app, createServiceDeskService({ db }));
  },
  enums: {
    serviceRequestStatus: {
      submitted: { en: 'Submitted', 'zh-CN': '已提交' },
      approved: { en: 'Approved', 'zh-CN': '已审批' },
      rejected: { en: 'Rejected', 'zh-CN': '已驳回' },
      in_fulfilment: { en: 'In fulfilment', 'zh-CN': '处理中' },
      fulfilled: { en: 'Fulfilled', 'zh-CN': '已完成' },
      closed: { en: 'Closed', 'zh-CN': '已关闭' },
      cancelled: { en: 'Cancelled', 'zh-CN': '已取消' },
    },
    serviceRequestAction: {
      approve: { en: 'Approve', 'zh-CN': '审批通过' },
      reject: { en: 'Reject', 'zh-CN': '驳回' },
      start: { en: 'Start fulfilment', 'zh-CN': '开始处理' },
      fulfil: { en: 'Mark fulfilled', 'zh-CN': '完成' },
      close: { en: 'Close', 'zh-CN': '关闭' },
      cancel: { en: 'Cancel', 'zh-CN': '取消' },
    },
    knowledgeArticleStatus: {
      draft: { en: 'Draft', 'zh-CN': '草稿' },
      published: { en: 'Published', 'zh-CN': '已发布' },
      retired: { en: 'Retired', 'zh-CN': '已废止' },
    },
  },
};
