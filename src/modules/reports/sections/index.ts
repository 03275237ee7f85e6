import { reportSections } from '../section.ts';
import { kpisSection } from './kpis.ts';
import { majorIncidentsSection } from './major-incidents.ts';
import { nonconformitiesSection } from './nonconformities.ts';
import { satisfactionSection } from './satisfaction.ts';
import { slaPerformanceSection } from './sla-performance.ts';
import { workloadSection } from './workload.ts';

/** The sections of this issue, in report order. Later modules register theirs after these. */
if (!reportSections.get(slaPerformanceSection.key)) {
  reportSections.register(slaPerformanceSection);
  reportSections.register(nonconformitiesSection);
  reportSections.register(workloadSection);
  reportSections.register(majorIncidentsSection);
  reportSections.register(kpisSection);
  reportSections.register(satisfactionSection);
}

export const BUILT_IN_SECTION_KEYS = [
  slaPerformanceSection.key,
  nonconformitiesSection.key,
  workloadSection.key,
  majorIncidentsSection.key,
  kpisSection.key,
  satisfactionSection.key,
];
