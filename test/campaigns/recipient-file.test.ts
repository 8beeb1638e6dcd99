import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { readRecipientFile, RecipientFileError, type ReadOptions, type RecipientRow } from '../../src/campaigns/recipient-file';

const dir = mkdtempSync(path.join(tmpdir(), 'recipient-files-'));
const file = (name: string, content: string) => {
  const target = path.join(dir, name);
  writeFileSync(target, content);
  return target;
};

async function read(options: Omit<ReadOptions, 'onChunk'>): Promise<RecipientRow[]> {
  const rows: RecipientRow[] = [];
  await readRecipientFile({ ...options, chunkSize: 2, onChunk: async (chunk) => void rows.push(...chunk) });
  return rows;
}

describe('recipient files', () => {
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('reads CSV: id and address columns, every other column a template variable', async () => {
    const csv = file('ok.csv', '\uFEFFrecipient_id,email,name,city\nr1,ann@example.test,Ann,Paris\nr2, bob@example.test ,Bob,Oslo\n\nr3,cy@example.test,Cy,Rome\n');
    const rows = await read({ file: csv, channel: 'email', body: 'Hi {{name}} in {{city}}' });
    assert.deepEqual(rows, [
      { recipientId: 'r1', address: 'ann@example.test', variables: { name: 'Ann', city: 'Paris' } },
      { recipientId: 'r2', address: 'bob@example.test', variables: { name: 'Bob', city: 'Oslo' } },
      { recipientId: 'r3', address: 'cy@example.test', variables: { name: 'Cy', city: 'Rome' } },
    ]);
  });

  it('reads JSON: an array, or { recipients: [...] }, with a variables object or loose fields', async () => {
    const array = file('ok.json', JSON.stringify([{ recipientId: 'a', address: 'https://hooks.example.test/a', variables: { name: 'A', n: 1 } }, { id: 'b', url: 'http://hooks.example.test/b', name: 'B', n: 2 }]));
    const wrapped = file('wrapped.json', JSON.stringify({ recipients: [{ recipient_id: 'c', address: 'anything', variables: { name: 'C', n: 3 } }] }));
    assert.deepEqual(await read({ file: array, channel: 'webhook', body: '{{name}} {{n}}' }), [
      { recipientId: 'a', address: 'https://hooks.example.test/a', variables: { name: 'A', n: 1 } },
      { recipientId: 'b', address: 'http://hooks.example.test/b', variables: { name: 'B', n: 2 } },
    ]);
    assert.deepEqual(await read({ file: wrapped, channel: 'log', body: '{{name}}' }), [{ recipientId: 'c', address: 'anything', variables: { name: 'C', n: 3 } }]);
  });

  it('refuses a file with problems as a whole, naming each line and what is wrong with it', async () => {
    const csv = file('bad.csv', 'recipient_id,address,name\nr1,ann@example.test,Ann\n,x@example.test,X\nr1,dup@example.test,Dup\nr4,not-an-address,D\nr5,eve@example.test\n');
    let handedOn = 0;
    await assert.rejects(
      readRecipientFile({ file: csv, channel: 'email', body: 'Hi {{name}}', subject: 'For {{name}}', onChunk: async (rows) => void (handedOn += rows.length) }),
      (error: Error) => {
        assert.ok(error instanceof RecipientFileError);
        assert.equal(
          error.message,
          `${csv} has 4 problem(s); nothing was created:\n` +
            '  line 3: no recipient id (a recipient_id / recipientId / id column)\n' +
            '  line 4: recipient id "r1" appears twice\n' +
            '  line 5: recipient "r4": "not-an-address" is not an email address\n' +
            '  line 6: recipient "r5": Template variable "name" is missing',
        );
        return true;
      },
    );
    assert.ok(handedOn <= 1, 'nothing after the first problem is handed on');
  });

  it('caps the list of problems it prints', async () => {
    const lines = Array.from({ length: 30 }, (_, index) => `r${index},not-an-address`);
    const csv = file('many.csv', `recipient_id,address\n${lines.join('\n')}\n`);
    await assert.rejects(read({ file: csv, channel: 'email', body: 'x' }), /has 30 problem\(s\)[\s\S]*\.\.\. and 10 more$/);
  });

  it('says what is wrong with a file it cannot read at all', async () => {
    await assert.rejects(read({ file: file('list.txt', 'x'), channel: 'log', body: 'x' }), /name it \.csv or \.json, or pass --format csv\|json/);
    await assert.rejects(read({ file: file('broken.json', '[{"id": 1,'), channel: 'log', body: 'x' }), /broken\.json is not valid JSON/);
    await assert.rejects(read({ file: file('object.json', '{"id": 1}'), channel: 'log', body: 'x' }), /must hold an array of recipients/);
    await assert.rejects(read({ file: file('empty.csv', 'recipient_id,address\n'), channel: 'log', body: 'x' }), /empty\.csv has no recipients/);
    await assert.rejects(read({ file: file('ragged.csv', 'recipient_id,address\nr1,a,extra\n'), channel: 'log', body: 'x' }), /ragged\.csv is not valid CSV: Invalid Record Length/);
    await assert.rejects(read({ file: path.join(dir, 'missing.csv'), channel: 'log', body: 'x' }), /^RecipientFileError: Cannot read .*missing\.csv: ENOENT$/);
  });
});
