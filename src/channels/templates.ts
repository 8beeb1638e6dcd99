// Renders `{{variable}}` templates with Handlebars: strict (a missing variable is an error), HTML-escaped when asked.
import Handlebars from 'handlebars';

const templates = Handlebars.create();

/** A template that cannot be compiled, or a variable it needs is missing: retrying will not help. */
export class TemplateError extends Error {
  override name = 'TemplateError';
}

export type TemplateMode = 'html' | 'text';

const cache = new Map<string, Handlebars.TemplateDelegate>();

function compile(template: string, mode: TemplateMode): Handlebars.TemplateDelegate {
  const key = `${mode}\u0000${template}`;
  let compiled = cache.get(key);
  if (!compiled) {
    try {
      compiled = templates.compile(template, { strict: true, noEscape: mode === 'text' });
      if (cache.size > 1_000) cache.clear();
      cache.set(key, compiled);
    } catch (error) {
      throw new TemplateError(`Malformed template: ${parseProblem(error)}`);
    }
  }
  return compiled;
}

/** Checks a template parses, without rendering it (for validating a campaign before it starts). */
export function assertTemplateCompiles(template: string): void {
  try {
    templates.precompile(template, { strict: true });
  } catch (error) {
    throw new TemplateError(`Malformed template: ${parseProblem(error)}`);
  }
}

/** Handlebars' parse errors span several lines (position, source excerpt, expectation): keep the first and last. */
function parseProblem(error: unknown): string {
  const lines = ((error as Error).message ?? String(error)).split('\n').map((line) => line.trim()).filter(Boolean);
  return lines.length > 1 ? `${lines[0]} ${lines[lines.length - 1]}` : (lines[0] ?? 'cannot be parsed');
}

export function renderTemplate(template: string, variables: Record<string, unknown>, mode: TemplateMode): string {
  try {
    return compile(template, mode)(variables);
  } catch (error) {
    if (error instanceof TemplateError) throw error;
    const message = (error as Error).message.split('\n')[0] ?? '';
    const missing = /"(.+)" not defined in/.exec(message)?.[1];
    throw new TemplateError(missing ? `Template variable "${missing}" is missing` : `Template failed: ${message}`);
  }
}
