import { VERSION } from "@backprop/tensor"; console.log(VERSION);
