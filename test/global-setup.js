const fs = require('fs');
const path = require('path');

// Testing.app()/fullSynth never delete their temp folders; point TMPDIR (inherited by the
// workers) at a per-run project folder that global-teardown removes. Per run, so two jest
// processes never delete each other's folders.
module.exports = async () => {
  const dir = path.join(__dirname, '..', '.tmp', `jest-${process.pid}`);
  fs.mkdirSync(dir, { recursive: true });
  process.env.TMPDIR = dir;
};
