// Path params as types: `ParamsOf<'/users/:id/posts/:pid'>` is `{ id: string; pid: string }`.

type Segment<S extends string> = S extends `:${infer Name}(${string}` ? Name : S extends `:${infer Name}` ? Name : never

type Names<S extends string> = S extends `${infer Head}/${infer Tail}`
  ? Segment<Head> | Names<Tail>
  : S extends '*'
    ? '*'
    : Segment<S>

/** The params a pattern captures, each a string. */
export type ParamsOf<S extends string> = string extends S
  ? Record<string, string | undefined>
  : { readonly [K in Names<S>]: string }
