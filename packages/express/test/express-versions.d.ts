// The npm aliases carry no types of their own; both majors are typed with @types/express.
declare module 'express-v4' {
  export { default } from 'express';
}
declare module 'express-v5' {
  export { default } from 'express';
}
