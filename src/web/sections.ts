import type { PageSection } from './app.ts';
import { auditPages } from './audit.ts';
import { councilPages } from './council.ts';
import { departmentPages } from './department.ts';
import { marketPages } from './market.ts';
import { panelPages } from './panel.ts';
import { placePages } from './places.ts';
import { treasuryPages } from './treasury.ts';

/** Every section of the web pages, in the order their links appear in the service navigation. */
export const SECTIONS: PageSection[] = [councilPages, panelPages, departmentPages, marketPages, treasuryPages, auditPages, placePages];
