import { PREVIEW_LENGTH, previewOf } from '../../src/realtime/broadcaster';

describe('message_notification preview', () => {
  it('keeps a short text whole', () => {
    expect(previewOf('hello')).toBe('hello');
    expect(previewOf('a'.repeat(PREVIEW_LENGTH))).toBe('a'.repeat(PREVIEW_LENGTH));
  });

  it('cuts a long text to the first 60 characters', () => {
    expect(previewOf('b'.repeat(100))).toBe('b'.repeat(60));
  });

  it('counts an emoji as one character and never cuts one in half', () => {
    const horse = '🐎';
    expect(previewOf(`${'c'.repeat(59)}${horse}${'d'.repeat(10)}`)).toBe(
      `${'c'.repeat(59)}${horse}`,
    );
    expect(previewOf(horse.repeat(70))).toBe(horse.repeat(60));
  });

  it('treats a lone surrogate as one character without swallowing the next', () => {
    const lone = '\ud83d';
    expect(previewOf(`${'e'.repeat(59)}${lone}fgh`)).toBe(`${'e'.repeat(59)}${lone}`);
  });
});
