// The shipped study result (public/study/quick.json, from `npm run study -- --quick`) feeds the
// page: each accuracy claim shows the lab's verdict beside the study's statement, in the method
// notes and in the study panel; a study file of another schema or with edited numbers is refused
// with the reason and the shipped result stays.
import { readFileSync } from 'node:fs';
import { expect, test } from '@playwright/test';
import { claimById, claimText } from '../src/lab/claims';
import { parseStudyReport, type StudyReport } from '../src/lab/study/report';

const shipped = JSON.parse(readFileSync('public/study/quick.json', 'utf8')) as StudyReport;

test('the shipped study result’s verdicts stand beside their claims; a tampered file is refused', async ({ page }) => {
  expect(parseStudyReport(shipped)).toHaveProperty('report');
  await page.goto('/#view=lab');
  const panel = page.getByRole('region', { name: 'What each method buys (study result)' });
  const verdicts = panel.getByRole('table', { name: 'The study’s accuracy claims, judged on this result' });
  for (const verdict of shipped.verdicts) {
    const row = verdicts.locator(`tr[data-claim="${verdict.claimId}"]`);
    await expect(row.getByRole('cell').nth(0)).toHaveText(claimText(claimById(verdict.claimId)));
    await expect(row.getByRole('cell').nth(1)).toHaveText(verdict.verdict);
  }
  await expect(panel.getByRole('img', { name: /^Accuracy against peak memory/ })).toBeVisible();

  // In the method note, beside BN+head's claim.
  await page.getByRole('combobox', { name: 'Method', exact: true }).selectOption('bn_head');
  const note = page.getByRole('region', { name: 'About this method' });
  const bnVerdict = shipped.verdicts.find((v) => v.claimId === 'bn_head_hard_shift')!;
  const line = note.locator('li[data-claim="bn_head_hard_shift"]');
  await expect(line).toContainText(claimText(claimById('bn_head_hard_shift')));
  await expect(line.locator('.claim-lab')).toHaveAttribute('data-verdict', bnVerdict.verdict);
  await expect(line.locator('.claim-lab')).toContainText(`Lab: ${bnVerdict.verdict}`);
  // A cost claim of the same note is judged on this configuration's analytic profiles.
  await expect(note.locator('li[data-claim="bn_head_memory"] .claim-lab')).toContainText('this configuration (analytic, batch 32, 32×32)');

  // A file whose numbers were edited is refused; the shipped result stays.
  const tampered = structuredClone(shipped);
  tampered.cells[0].finalAccuracy.mean = 0.999;
  await panel.getByLabel('Load a study result (JSON)').setInputFiles({ name: 'edited.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(tampered)) });
  await expect(panel.getByRole('alert')).toHaveText('edited.json was refused: its cells do not follow from its runs (edited or truncated). Nothing of it is shown.');
  await expect(panel).toContainText('the shipped study result');
  await panel.getByLabel('Load a study result (JSON)').setInputFiles({ name: 'old.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify({ ...shipped, schema: 'peft-edge-lab/study@0' })) });
  await expect(panel.getByRole('alert')).toContainText('old.json was refused: schema "peft-edge-lab/study@0" is not peft-edge-lab/study@1');
  // A good file of one's own replaces it.
  await panel.getByLabel('Load a study result (JSON)').setInputFiles({ name: 'mine.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(shipped)) });
  await expect(panel.getByRole('alert')).toHaveCount(0);
  await expect(panel).toContainText('mine.json:');
});
