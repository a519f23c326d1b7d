const fs = require('fs');
const path = require('path');

// Testing.app()/fullSynth never delete their temp folders; point TMPDIR (inherited by the
// workers) at a project folder that global-teardown removes.
module.exports = async () => {
  const dir = path.join(__dirname, '..', '.tmp', 'jest');
  fs.mkdirSync(dir, { recursive: true });
  process.env.TMPDIR = dir;
};
