/**
 * Display names (shown as the seller on every book): what characters a name may hold, its stored
 * form, and its look-alike key. Two names with the same key read the same to a buyer, so auth keeps
 * the key unique (`users.name_skeleton`): nobody can register "Воb Bookseller" (Cyrillic) once
 * "Bob Bookseller" exists.
 */
import { z } from 'zod';

// Text-direction controls: embeddings and overrides, isolates, the LRM/RLM/ALM marks.
const directionControls = /[\u202A-\u202E\u2066-\u2069\u200E\u200F\u061C]/u;
// Control, format (zero-width spaces and joiners, soft hyphen, BOM…), surrogate, private-use and
// line/paragraph separator characters; plus letters and symbols that draw nothing at all.
const invisible = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Zl}\p{Zp}\u034F\u115F\u1160\u17B4\u17B5\u2800\u3164\uFFA0]/u;
// More marks than any script stacks on one letter: "Zalgo" text that spills over the page.
const stackedMarks = /\p{M}{4,}/u;
const maxLength = 100;

/** The stored form of a name: NFKC (full-width and other compatibility forms folded), trimmed, single spaces. */
export function normaliseName(name: string): string {
  return name.normalize('NFKC').replace(/\s+/gu, ' ').trim();
}

/** Why a name cannot be used, as a sentence for the form; undefined when it can. */
export function nameProblem(name: string): string | undefined {
  if (directionControls.test(name)) return 'Name must not contain characters that change the direction of the text.';
  if (invisible.test(name)) return 'Name must not contain control characters or invisible characters.';
  const normalised = normaliseName(name);
  if (invisible.test(normalised)) return 'Name must not contain control characters or invisible characters.';
  if (stackedMarks.test(normalised)) return 'Name must not stack more than three accents on one letter.';
  if (normalised.length > maxLength) return `Name must be at most ${maxLength} characters long.`;
  if (!nameSkeleton(normalised)) return 'Name must contain at least one letter or digit.';
  return undefined;
}

/**
 * A name for an account: refused with a sentence when it hides characters or says nothing; answers
 * the normalised form.
 *
 * @example
 * z.object({ name: displayName }).parse({ name: ' Ｇrace  Hopper ' }) // { name: 'Grace Hopper' }
 */
export const displayName = z.string().transform((name, context) => {
  const problem = nameProblem(name);
  if (problem) {
    context.addIssue({ code: 'custom', message: problem });
    return z.NEVER;
  }
  return normaliseName(name);
});

/**
 * Letters that look like Latin ones: Cyrillic and Greek, upper and lower case, mapped before case
 * folding (Greek "Η" looks like "H", its lower case "η" like "n"). A small table after Unicode's
 * confusables list (UTS #39), limited to the letters a seller's name would use to pass as another.
 */
const lookAlikes: Record<string, string> = {
  // Cyrillic capitals
  А: 'A', В: 'B', Е: 'E', Ё: 'E', З: '3', К: 'K', М: 'M', Н: 'H', О: 'O', Р: 'P', С: 'C', Т: 'T', У: 'Y', Х: 'X',
  Ь: 'b', Ѕ: 'S', І: 'I', Ї: 'I', Ј: 'J', Ԁ: 'd', Ԛ: 'Q', Ԝ: 'W', Ү: 'Y', Һ: 'h', Ӏ: 'l', Ꙅ: 'S',
  // Cyrillic small letters
  а: 'a', в: 'b', е: 'e', ё: 'e', з: '3', к: 'k', м: 'm', н: 'h', о: 'o', р: 'p', с: 'c', т: 't', у: 'y', х: 'x',
  ь: 'b', г: 'r', п: 'n', и: 'u', ѕ: 's', і: 'i', ї: 'i', ј: 'j', ԁ: 'd', ԛ: 'q', ԝ: 'w', ү: 'y', һ: 'h', ӏ: 'l', ɡ: 'g',
  // Greek capitals
  Α: 'A', Β: 'B', Ε: 'E', Ζ: 'Z', Η: 'H', Ι: 'I', Κ: 'K', Μ: 'M', Ν: 'N', Ο: 'O', Ρ: 'P', Τ: 'T', Υ: 'Y', Χ: 'X', Ϲ: 'C',
  // Greek small letters
  α: 'a', β: 'b', γ: 'y', ε: 'e', η: 'n', ι: 'i', κ: 'k', ν: 'v', ο: 'o', ρ: 'p', τ: 't', υ: 'u', χ: 'x', ω: 'w', ϲ: 'c', ϳ: 'j',
  // Latin letters that pass for others
  ı: 'i', ȷ: 'j', ł: 'l', đ: 'd', ħ: 'h', ø: 'o', ŀ: 'l', ß: 'ss', æ: 'ae', œ: 'oe',
};
// After case folding: glyphs that are one stroke or one ring in most fonts, and letter pairs that
// read as one letter.
const strokes = /[l1|ǀ]/gu;
const rings = /0/gu;

/**
 * The key two names share when one could pass for the other: the letters and digits left after
 * folding compatibility forms, accents, letter case, Cyrillic and Greek look-alikes, and the
 * i/l/1, o/0, rn/m and vv/w confusions; spaces and punctuation do not count.
 *
 * @example
 * nameSkeleton('Воb Bookse11er') === nameSkeleton('bob bookseller') // 'bobbookseiier'
 */
export function nameSkeleton(name: string): string {
  const unmarked = (text: string) => text.normalize('NFKD').replace(/\p{M}/gu, '');
  const latin = Array.from(unmarked(name.normalize('NFKC')), (char) => lookAlikes[char] ?? char).join('');
  const folded = Array.from(unmarked(latin.toLowerCase()), (char) => lookAlikes[char] ?? char).join('');
  return folded
    .replace(strokes, 'i')
    .replace(rings, 'o')
    .replace(/[^\p{L}\p{N}]/gu, '')
    .replace(/rn/gu, 'm')
    .replace(/vv/gu, 'w');
}
