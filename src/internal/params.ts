// Params and assigns as types: what the Parts of a pipe establish, and so what the Parts after
// them may read. `ParamsOf<'/users/:id/posts/:pid'>` is `{ id: string; pid: string }`.
import type { Assigns, Conn, Params } from '../context/conn.js'

type Segment<S extends string> = S extends `:${infer Name}(${string}` ? Name : S extends `:${infer Name}` ? Name : never

type Names<S extends string> = S extends `${infer Head}/${infer Tail}`
  ? Segment<Head> | Names<Tail>
  : S extends '*'
    ? '*'
    : Segment<S>

/**
 * The params a pattern captures, each a string; any name for a pattern not known until run time
 * (typed apart from the wide `Params`, which says that nothing is known).
 */
export type ParamsOf<S extends string> = string extends S
  ? { readonly [name: string]: string }
  : { readonly [K in Names<S>]: string }

// The names a record type guarantees: none when it is the wide default (`Params`, `Assigns`:
// any name, maybe missing).
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- the record of no names
type Known<T> = string extends keyof T ? (undefined extends T[string] ? {} : T) : T

// Y's names win over X's, as at run time (a later param or assign replaces an earlier one).
type Merge<X, Y> = keyof X extends never
  ? Y
  : keyof Y extends never
    ? X
    : { readonly [K in keyof X | keyof Y]: K extends keyof Y ? Y[K] : K extends keyof X ? X[K] : never }

/**
 * A Conn not seen yet. TypeScript's first look at a call leaves out the arguments that are
 * generic calls (`path('/x')`, `handle(...)`); `pipe` gives the outputs it did not see this type,
 * which every Part accepts, so that a Part it did see is not refused for a missing param.
 */
export type Pending = Conn<never, never, never>

/** What a Conn type guarantees: the names a Part established, none for the wide default `Conn`. */
export type Exact<C> = [C] extends [never]
  ? // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- nothing known
    Conn<{}, {}>
  : C extends Conn
    ? Conn<Known<C['params']>, Known<C['assigns']>, C['body']>
    : never

/**
 * The Conn after a Part whose output is `O`, when `K` (an `Exact` Conn) was known before it: the
 * params and assigns of both, `O`'s winning, and `O`'s body type when it says one (a decoder).
 */
export type Then<K, O> = Conn extends O
  ? K // O establishes nothing (a method filter, a builder): the common case, kept cheap
  : [O] extends [Pending]
    ? Pending
    : [K] extends [Pending]
      ? Pending
      : K extends Conn
        ? O extends Conn
          ? [Merge<K['params'], Known<O['params']>>, Merge<K['assigns'], Known<O['assigns']>>] extends [
              infer P extends Params,
              infer A extends Assigns,
            ]
            ? Conn<P, A, unknown extends O['body'] ? K['body'] : O['body']>
            : never
          : never
        : never

/**
 * What a pipe's Parts have established after its n-th Part, given its input `I` and the outputs
 * `O1`...`On` of its Parts: the type that Part n + 1 is given, and the pipe's output after the last.
 */
export type After1<I, O1> = Then<Exact<I>, O1>
export type After2<I, O1, O2> = Then<After1<I, O1>, O2>
export type After3<I, O1, O2, O3> = Then<After2<I, O1, O2>, O3>
export type After4<I, O1, O2, O3, O4> = Then<After3<I, O1, O2, O3>, O4>
export type After5<I, O1, O2, O3, O4, O5> = Then<After4<I, O1, O2, O3, O4>, O5>
export type After6<I, O1, O2, O3, O4, O5, O6> = Then<After5<I, O1, O2, O3, O4, O5>, O6>
export type After7<I, O1, O2, O3, O4, O5, O6, O7> = Then<After6<I, O1, O2, O3, O4, O5, O6>, O7>
export type After8<I, O1, O2, O3, O4, O5, O6, O7, O8> = Then<After7<I, O1, O2, O3, O4, O5, O6, O7>, O8>
export type After9<I, O1, O2, O3, O4, O5, O6, O7, O8, O9> = Then<After8<I, O1, O2, O3, O4, O5, O6, O7, O8>, O9>
export type After10<I, O1, O2, O3, O4, O5, O6, O7, O8, O9, O10> = Then<
  After9<I, O1, O2, O3, O4, O5, O6, O7, O8, O9>,
  O10
>
export type After11<I, O1, O2, O3, O4, O5, O6, O7, O8, O9, O10, O11> = Then<
  After10<I, O1, O2, O3, O4, O5, O6, O7, O8, O9, O10>,
  O11
>
export type After12<I, O1, O2, O3, O4, O5, O6, O7, O8, O9, O10, O11, O12> = Then<
  After11<I, O1, O2, O3, O4, O5, O6, O7, O8, O9, O10, O11>,
  O12
>
export type After13<I, O1, O2, O3, O4, O5, O6, O7, O8, O9, O10, O11, O12, O13> = Then<
  After12<I, O1, O2, O3, O4, O5, O6, O7, O8, O9, O10, O11, O12>,
  O13
>
export type After14<I, O1, O2, O3, O4, O5, O6, O7, O8, O9, O10, O11, O12, O13, O14> = Then<
  After13<I, O1, O2, O3, O4, O5, O6, O7, O8, O9, O10, O11, O12, O13>,
  O14
>
export type After15<I, O1, O2, O3, O4, O5, O6, O7, O8, O9, O10, O11, O12, O13, O14, O15> = Then<
  After14<I, O1, O2, O3, O4, O5, O6, O7, O8, O9, O10, O11, O12, O13, O14>,
  O15
>
export type After16<I, O1, O2, O3, O4, O5, O6, O7, O8, O9, O10, O11, O12, O13, O14, O15, O16> = Then<
  After15<I, O1, O2, O3, O4, O5, O6, O7, O8, O9, O10, O11, O12, O13, O14, O15>,
  O16
>
