import { describe, expect, it } from 'vitest';
import { isReadyLine } from '@hearth/cluster';
import { LineSplitter, maxLineLength, OutputTail } from '../src/output-tail.js';

describe('OutputTail and LineSplitter', () => {
  it('keeps only the last lines, split across arbitrary chunks', () => {
    const tail = new OutputTail(3);
    const splitter = new LineSplitter((line) => tail.push(line));
    for (const chunk of ['one\ntw', 'o\r\nthree\nfo', 'ur\nfive']) splitter.write(chunk);
    expect(tail.text()).toBe('two\nthree\nfour');
    splitter.flush();
    expect(tail.text()).toBe('three\nfour\nfive');
    expect(tail.text(1)).toBe('five');
  });

  it('bounds a line that never ends', () => {
    const lines: string[] = [];
    const splitter = new LineSplitter((line) => lines.push(line));
    for (let index = 0; index < 10; index += 1) splitter.write('x'.repeat(maxLineLength));
    expect(lines).toHaveLength(9); // the tenth is held, at most maxLineLength long, until more comes
    splitter.flush();
    expect(lines).toHaveLength(10);
    expect(lines.every((line) => line.length === maxLineLength)).toBe(true);
  });
});

describe('isReadyLine', () => {
  it('accepts a JSON log line whose event is service.ready, and nothing else', () => {
    expect(isReadyLine('{"level":30,"event":"service.ready","msg":"api ready"}')).toBe(true);
    expect(isReadyLine('{"level":30, "event": "service.ready"}')).toBe(true);
    expect(isReadyLine('{"level":30,"msg":"waiting for service.ready"}')).toBe(false);
    expect(isReadyLine('service.ready')).toBe(false);
  });
});
