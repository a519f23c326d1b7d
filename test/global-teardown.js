const fs = require('fs');
const path = require('path');

module.exports = async () => {
  fs.rmSync(path.join(__dirname, '..', '.tmp', `jest-${process.pid}`), { recursive: true, force: true });
};
