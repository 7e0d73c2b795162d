// Placeholder, filled in with the page.
export const PAGE_TEXT = { en: {}, zh: {} };
