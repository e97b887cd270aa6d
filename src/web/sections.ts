import type { PageSection } from './app.ts';
import { councilPages } from './council.ts';
import { panelPages } from './panel.ts';

/** Every section of the web pages, in the order their links appear in the service navigation. */
export const SECTIONS: PageSection[] = [councilPages, panelPages];
