import { showExample } from "./page.js";

showExample();
