// First in cucumber's import list: lets every process that loads the support code (the runner's
// own, and each --parallel worker cucumber forks) import the TypeScript step definitions.
import { register } from 'tsx/esm/api';

register();
