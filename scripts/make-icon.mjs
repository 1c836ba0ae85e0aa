#!/usr/bin/env node
// Draws the app icon (resources/icons/icon.png, 512x512 RGBA) with nothing but zlib: a
// rounded square in a blue-to-indigo gradient carrying a white "S" made of two open rings.
// The PNG is checked in; rerun this script only to change the mark.
import { writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';

const SIZE = 512;
const SAMPLES = 4; // 4x4 supersampling for smooth edges

const TILE = { x0: 32, y0: 32, x1: 480, y1: 480, radius: 100 };
const FROM = [14, 165, 233]; // #0ea5e9
const TO = [79, 70, 229]; // #4f46e5
const RING = { radius: 62, stroke: 42, top: [256, 194], bottom: [256, 318] };
const GAP_DEG = 20; // how far the S's ends stop short of horizontal

function insideRoundedSquare(x, y) {
  const { x0, y0, x1, y1, radius } = TILE;
  if (x < x0 || x > x1 || y < y0 || y > y1) return false;
  const cx = Math.min(Math.max(x, x0 + radius), x1 - radius);
  const cy = Math.min(Math.max(y, y0 + radius), y1 - radius);
  return (x - cx) ** 2 + (y - cy) ** 2 <= radius ** 2;
}

function onRing(x, y, [cx, cy], keep) {
  const distance = Math.hypot(x - cx, y - cy);
  if (Math.abs(distance - RING.radius) > RING.stroke / 2) return false;
  return keep((Math.atan2(y - cy, x - cx) * 180) / Math.PI);
}

function onCap(x, y, [cx, cy], angleDeg) {
  const a = (angleDeg * Math.PI) / 180;
  return Math.hypot(x - (cx + RING.radius * Math.cos(a)), y - (cy + RING.radius * Math.sin(a))) <= RING.stroke / 2;
}

// Angles in screen space (y down): 0 = right, 90 = down, -90 = up.
function insideS(x, y) {
  return (
    onRing(x, y, RING.top, (deg) => deg >= 90 || deg <= -GAP_DEG) ||
    onRing(x, y, RING.bottom, (deg) => deg >= -90 && deg <= 180 - GAP_DEG) ||
    onCap(x, y, RING.top, -GAP_DEG) ||
    onCap(x, y, RING.bottom, 180 - GAP_DEG)
  );
}

function pixel(px, py) {
  let tile = 0;
  let mark = 0;
  for (let sy = 0; sy < SAMPLES; sy++) {
    for (let sx = 0; sx < SAMPLES; sx++) {
      const x = px + (sx + 0.5) / SAMPLES;
      const y = py + (sy + 0.5) / SAMPLES;
      if (!insideRoundedSquare(x, y)) continue;
      tile++;
      if (insideS(x, y)) mark++;
    }
  }
  const n = SAMPLES * SAMPLES;
  if (tile === 0) return [0, 0, 0, 0];
  const t = (px + py) / (2 * SIZE); // diagonal gradient
  const base = FROM.map((c, i) => c + (TO[i] - c) * t);
  const whiteShare = mark / tile;
  const rgb = base.map((c) => Math.round(c + (255 - c) * whiteShare));
  return [...rgb, Math.round((255 * tile) / n)];
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(buffer) {
  let c = 0xffffffff;
  for (const byte of buffer) c = CRC_TABLE[(c ^ byte) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

export function renderIconPng() {
  const raw = Buffer.alloc(SIZE * (SIZE * 4 + 1));
  for (let y = 0; y < SIZE; y++) {
    const row = y * (SIZE * 4 + 1);
    raw[row] = 0; // filter: none
    for (let x = 0; x < SIZE; x++) raw.set(pixel(x, y), row + 1 + x * 4);
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(SIZE, 0);
  header.writeUInt32BE(SIZE, 4);
  header.set([8, 6, 0, 0, 0], 8); // 8-bit RGBA, deflate, no interlace
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = path.join(root, 'resources', 'icons', 'icon.png');
mkdirSync(path.dirname(out), { recursive: true });
writeFileSync(out, renderIconPng());
console.log(`wrote ${path.relative(root, out)}`);
