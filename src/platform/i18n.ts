/** Labels of enumeration codes in the supported locales. Codes are stable English identifiers. */
export const LOCALES = ['en', 'zh-CN'] as const;
export type Locale = (typeof LOCALES)[number];

export type EnumLabels = Record<string, Record<Locale, string>>;

/** The best supported locale for an `Accept-Language` header (q-values honoured); `en` by default. */
export function negotiateLocale(header: string | undefined): Locale {
  if (!header) return 'en';
  const ranges = header
    .split(',')
    .map((part, index) => {
      const [tag = '', ...params] = part.trim().split(';');
      const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
      return { tag: tag.trim().toLowerCase(), q: q ? Number(q.slice(2)) : 1, index };
    })
    .filter((r) => r.tag && !Number.isNaN(r.q) && r.q > 0)
    .sort((a, b) => b.q - a.q || a.index - b.index);
  for (const { tag } of ranges) {
    if (tag === 'zh' || tag.startsWith('zh-')) return 'zh-CN';
    if (tag === 'en' || tag.startsWith('en-') || tag === '*') return 'en';
  }
  return 'en';
}

/** The registry modules add their enumerations to; served at `GET /api/v1/enumerations`. */
export class EnumRegistry {
  private readonly enums = new Map<string, EnumLabels>();

  add(name: string, labels: EnumLabels): void {
    this.enums.set(name, labels);
  }

  label(name: string, code: string, locale: Locale): string {
    return this.enums.get(name)?.[code]?.[locale] ?? code;
  }

  localized(locale: Locale): Record<string, { code: string; label: string }[]> {
    const out: Record<string, { code: string; label: string }[]> = {};
    for (const [name, labels] of [...this.enums].sort(([a], [b]) => a.localeCompare(b))) {
      out[name] = Object.entries(labels).map(([code, l]) => ({ code, label: l[locale] }));
    }
    return out;
  }
}
