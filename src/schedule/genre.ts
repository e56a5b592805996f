/**
 * XMLTV / plain-English categories → DVB content nibbles (EN 300 468 Table 29).
 * Matching is case-insensitive on the whole category text after trimming; unknown
 * categories map to undefined (the EIT then omits the content descriptor).
 */
import type { ContentNibbles } from "./model.js";

const TABLE: [string[], number, number][] = [
  // 0x1 Movie/Drama
  [["movie", "movies", "film", "feature film", "drama", "movie/drama"], 0x1, 0x0],
  [["detective", "thriller", "crime", "crime drama", "mystery"], 0x1, 0x1],
  [["adventure", "western", "war", "action"], 0x1, 0x2],
  [["science fiction", "sci-fi", "fantasy", "horror"], 0x1, 0x3],
  [["comedy", "sitcom"], 0x1, 0x4],
  [["soap", "soap opera", "melodrama", "folklore"], 0x1, 0x5],
  [["romance"], 0x1, 0x6],
  [["serious", "classical", "religious", "historical drama"], 0x1, 0x7],
  [["adult movie", "adult"], 0x1, 0x8],
  [["series", "tv series", "episodic"], 0x1, 0x0],
  // 0x2 News/Current affairs
  [["news", "current affairs", "news/current affairs", "newscast"], 0x2, 0x0],
  [["news/weather report", "weather", "weather report"], 0x2, 0x1],
  [["news magazine", "magazine"], 0x2, 0x2],
  [["documentary", "documentaries"], 0x2, 0x3],
  [["discussion", "interview", "debate", "talk", "talk show"], 0x2, 0x4],
  // 0x3 Show/Game show
  [["show", "game show", "show/game show", "entertainment", "reality"], 0x3, 0x0],
  [["quiz", "contest", "game"], 0x3, 0x1],
  [["variety", "variety show"], 0x3, 0x2],
  // 0x4 Sports
  [["sports", "sport", "sports event", "sports events"], 0x4, 0x0],
  [["special events", "olympic games", "world cup"], 0x4, 0x1],
  [["sports magazine", "sports magazines"], 0x4, 0x2],
  [["football", "soccer"], 0x4, 0x3],
  [["tennis", "squash"], 0x4, 0x4],
  [["team sports"], 0x4, 0x5],
  [["athletics"], 0x4, 0x6],
  [["motor sport", "motor sports", "motorsport"], 0x4, 0x7],
  [["water sport", "water sports"], 0x4, 0x8],
  [["winter sports"], 0x4, 0x9],
  [["equestrian"], 0x4, 0xa],
  [["martial sports", "martial arts"], 0x4, 0xb],
  // 0x5 Children's/Youth
  [["kids", "children", "children's", "childrens", "youth", "children's / youth programmes", "family"], 0x5, 0x0],
  [["pre-school", "preschool"], 0x5, 0x1],
  [["animation", "cartoon", "cartoons", "anime"], 0x5, 0x5],
  // 0x6 Music/Ballet/Dance
  [["music", "music/ballet/dance", "ballet", "dance"], 0x6, 0x0],
  [["rock", "pop", "rock/pop"], 0x6, 0x1],
  [["classical music", "serious music"], 0x6, 0x2],
  [["jazz"], 0x6, 0x4],
  [["musical", "opera", "musical/opera"], 0x6, 0x5],
  // 0x7 Arts/Culture
  [["arts", "culture", "arts/culture", "arts/culture (without music)"], 0x7, 0x0],
  [["performing arts", "theatre", "theater"], 0x7, 0x1],
  [["fine arts"], 0x7, 0x2],
  [["religion"], 0x7, 0x3],
  [["literature"], 0x7, 0x5],
  [["cinema", "film/cinema"], 0x7, 0x6],
  [["fashion"], 0x7, 0xb],
  // 0x8 Social/Political/Economics
  [["social/political issues/economics", "politics", "social", "economics", "business", "finance"], 0x8, 0x0],
  [["biography", "magazines/reports/documentary"], 0x8, 0x1],
  // 0x9 Education/Science/Factual
  [["education", "educational", "science", "factual", "education/science/factual topics"], 0x9, 0x0],
  [["nature", "animals", "environment"], 0x9, 0x1],
  [["technology", "natural sciences"], 0x9, 0x2],
  [["medicine", "health", "physiology", "psychology"], 0x9, 0x3],
  [["foreign countries", "expeditions", "travel documentary"], 0x9, 0x4],
  [["languages"], 0x9, 0x6],
  // 0xA Leisure hobbies
  [["leisure", "hobbies", "leisure hobbies", "lifestyle"], 0xa, 0x0],
  [["travel", "tourism"], 0xa, 0x1],
  [["handicraft", "diy"], 0xa, 0x2],
  [["motoring", "cars"], 0xa, 0x3],
  [["fitness", "fitness and health"], 0xa, 0x4],
  [["cooking", "food"], 0xa, 0x5],
  [["shopping", "advertisement", "teleshopping"], 0xa, 0x6],
  [["gardening"], 0xa, 0x7],
];

const MAP = new Map<string, ContentNibbles>();
for (const [names, level1, level2] of TABLE) {
  for (const n of names) MAP.set(n, { level1, level2 });
}

export function contentForCategory(category: string): ContentNibbles | undefined {
  const hit = MAP.get(category.trim().toLowerCase());
  return hit ? { level1: hit.level1, level2: hit.level2 } : undefined;
}

/** The first of several categories that maps, with its text. */
export function contentForCategories(categories: string[]): { genre: string; content: ContentNibbles } | undefined {
  for (const c of categories) {
    const content = contentForCategory(c);
    if (content) return { genre: c, content };
  }
  return undefined;
}
