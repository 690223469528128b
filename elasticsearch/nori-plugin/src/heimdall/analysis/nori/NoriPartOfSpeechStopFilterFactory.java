package heimdall.analysis.nori;

import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.ko.KoreanPartOfSpeechStopFilter;
import org.apache.lucene.analysis.ko.POS;
import org.elasticsearch.plugin.Inject;
import org.elasticsearch.plugin.NamedComponent;
import org.elasticsearch.plugin.analysis.TokenFilterFactory;

import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * The official analysis-nori {@code nori_part_of_speech} filter. Difference: the stable API reads a missing list
 * setting as an empty list, so {@code stoptags: []} also means the default tags (officially it removes nothing),
 * and there is no {@code stoptags_path}.
 */
@NamedComponent("nori_part_of_speech")
public class NoriPartOfSpeechStopFilterFactory implements TokenFilterFactory {
    private final Set<POS.Tag> stopTags;

    @Inject
    public NoriPartOfSpeechStopFilterFactory(NoriPartOfSpeechSettings settings) {
        List<String> tags = settings.stoptags();
        if (tags.isEmpty()) {
            stopTags = KoreanPartOfSpeechStopFilter.DEFAULT_STOP_TAGS;
        } else {
            stopTags = EnumSet.noneOf(POS.Tag.class);
            for (String tag : tags) {
                stopTags.add(POS.resolveTag(tag)); // unknown names fail the index definition, as officially
            }
        }
    }

    @Override
    public TokenStream create(TokenStream tokenStream) {
        return new KoreanPartOfSpeechStopFilter(tokenStream, stopTags);
    }
}
