import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertTemplateCompiles, renderTemplate, TemplateError } from '../../src/channels/templates';

describe('templates', () => {
  it('escapes values for HTML bodies and leaves text as it is', () => {
    const variables = { name: '<b>Ann & Bob</b>' };
    assert.equal(renderTemplate('Hi {{name}}', variables, 'html'), 'Hi &lt;b&gt;Ann &amp; Bob&lt;/b&gt;');
    assert.equal(renderTemplate('Hi {{name}}', variables, 'text'), 'Hi <b>Ann & Bob</b>');
  });

  it('makes a missing variable an error naming it, never an empty string', () => {
    assert.throws(() => renderTemplate('Hi {{name}}, code {{code}}', { name: 'Ann' }, 'text'), (error: Error) => {
      assert.ok(error instanceof TemplateError);
      assert.equal(error.message, 'Template variable "code" is missing');
      return true;
    });
    assert.throws(() => renderTemplate('Hi {{user.name}}', { user: {} }, 'html'), /^TemplateError: Template variable "name" is missing$/);
    assert.equal(renderTemplate('{{count}} left', { count: 0 }, 'text'), '0 left');
  });

  it('reports a malformed template with the parser position', () => {
    assert.throws(() => assertTemplateCompiles('{{#if name}}unclosed'), /^TemplateError: Malformed template: Parse error on line 1: .*got 'EOF'/);
    assert.throws(() => renderTemplate('{{name}', { name: 'x' }, 'text'), TemplateError);
    assert.doesNotThrow(() => assertTemplateCompiles('Hello {{name}}'));
  });
});
